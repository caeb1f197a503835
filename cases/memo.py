"""HTML that is a pure function of a few values, rendered once for each distinct set of them.

A list page's forms (the queue's filters, its bulk actions, the form that logs an item into a case) are the same
markup for the same inputs: the submitted values and the choice lists, which the page still reads from the database
on every request. Django's form machinery (bound fields, widget contexts, an option dict per choice) costs more
than the rest of such a page's rendering; keyed on everything the markup depends on, it runs once per distinct
inputs instead of on every request. A changed choice list (a new platform, a renamed analyst) is a new key, so
what a page shows is never stale; the least recently used keys are forgotten.
"""

from collections import OrderedDict
from threading import Lock

from django.utils.safestring import SafeString
from django.utils.translation import get_language


class HtmlMemo:
    """At most `size` renderings, the least recently used dropped first; safe across a server's threads."""

    def __init__(self, size: int = 128):
        self.size = size
        self._done: OrderedDict = OrderedDict()
        self._lock = Lock()

    def get(self, key, render) -> SafeString:
        """The markup for `key` (hashable: every value the markup depends on), `render()` the first time."""
        key = (get_language(), key)  # labels and messages are in the request's language
        with self._lock:
            html = self._done.get(key)
            if html is not None:
                self._done.move_to_end(key)
                return html
        html = render()  # outside the lock: two threads may render the same key once each, never wrongly
        with self._lock:
            self._done[key] = html
            self._done.move_to_end(key)
            while len(self._done) > self.size:
                self._done.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._done.clear()
