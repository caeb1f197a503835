"""Logging filters named in settings.LOGGING."""

import logging


class ClientErrorWithoutTraceback(logging.Filter):
    """A 4xx answer (a 404, a 403 for the wrong role) is the client's doing, not a fault: django.request keeps
    its one line and drops the traceback Django attaches to it. 5xx answers keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
