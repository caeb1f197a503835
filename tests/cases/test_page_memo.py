"""The forms the queue and the case page render once per distinct inputs (cases/memo.py) never show stale lists or
lose a posted form's values and errors."""

from cases.memo import HtmlMemo
from tests.conftest import make_platform, make_user


def test_a_memo_renders_once_per_key_and_forgets_the_least_recently_used():
    memo, calls = HtmlMemo(size=2), []

    def render(text):
        def go():
            calls.append(text)
            return text
        return go

    assert memo.get("a", render("A")) == "A" and memo.get("a", render("other")) == "A"
    memo.get("b", render("B"))
    memo.get("a", render("A"))  # a is now the most recently used
    memo.get("c", render("C"))  # b goes
    assert memo.get("b", render("B again")) == "B again"
    assert calls == ["A", "B", "C", "B again"]


def test_the_queue_filters_show_a_new_platform_and_a_new_analyst(browser, analyst, case, log):
    log()
    client = browser(analyst)
    page = client.get("/queue/").content.decode()
    assert "Brandnew" not in page and "newcomer_analyst" not in page
    make_platform("brandnew", ["brandnew.example"])
    make_user("newcomer_analyst", "analyst")
    page = client.get("/queue/").content.decode()
    assert "Brandnew" in page.split('id="bulk-form"')[0]  # the filter's platforms
    assert page.count("newcomer_analyst") == 2  # the filter's assignees and the bulk action's


def test_the_log_form_shows_a_new_platform_and_a_posted_forms_errors(browser, analyst, case):
    client = browser(analyst)
    assert "Brandnew" not in client.get(f"/cases/{case.pk}/").content.decode()
    make_platform("brandnew", ["brandnew.example"])
    assert "Brandnew (brandnew)" in client.get(f"/cases/{case.pk}/").content.decode()
    res = client.post(f"/cases/{case.pk}/", {"url": "", "kind": "post", "notes": "kept <b>notes</b>"})
    page = res.content.decode()
    assert res.status_code == 200 and "errorlist" in page and "kept &lt;b&gt;notes&lt;/b&gt;" in page
    assert "kept" not in client.get(f"/cases/{case.pk}/").content.decode()  # the next empty form is empty
