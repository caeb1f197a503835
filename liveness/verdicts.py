"""The verdict of one check: a platform's rules (data, LivenessRule), then the defaults.

A 5xx, a timeout, a refused or failed fetch, or an answer no rule or default knows is `unknown`, never `offline`:
the desk says content is gone only when the platform's own answer says so (404, 410, or a rule such as a
redirect to its login page or "this video is unavailable" in the page).
"""

import re

from liveness.models import LivenessRule, RuleKind, Verdict


def _status_codes(value: str) -> set[int]:
    return {int(part) for part in value.replace(" ", "").split(",") if part}


def rule_problem(kind: str, value: str) -> str | None:
    """Why a rule cannot be used (the admin's check), or None."""
    if kind == RuleKind.STATUS_CODE:
        try:
            codes = _status_codes(value)
        except ValueError:
            return "Give one or several status codes, comma-separated (e.g. 404,410)."
        if not codes or any(not 100 <= code <= 599 for code in codes):
            return "Status codes are between 100 and 599."
    elif kind == RuleKind.FINAL_URL_REGEX:
        try:
            re.compile(value)
        except re.error as exc:
            return f"Not a regular expression: {exc}."
    elif kind == RuleKind.BODY_MARKER and not value.strip():
        return "Give the text to look for."
    return None


def _holds(rule: LivenessRule, status_code: int, final_url: str, text: str) -> bool:
    try:
        if rule.kind == RuleKind.STATUS_CODE:
            return status_code in _status_codes(rule.value)
        if rule.kind == RuleKind.FINAL_URL_REGEX:
            return re.search(rule.value, final_url) is not None
        if rule.kind == RuleKind.BODY_MARKER:
            return rule.value.strip().lower() in text
    except (ValueError, re.error):  # a rule saved past the admin's check decides nothing
        return False
    return False


def decide(rules: list[LivenessRule], *, status_code: int | None, final_url: str, body: bytes,
           error: str = "") -> tuple[str, str]:
    """(verdict, what decided it) for one answer; `rules` in their order."""
    if status_code is None:
        return Verdict.UNKNOWN, f"no answer ({error.split(':', 1)[0]})" if error else "no answer"
    if status_code >= 500:
        return Verdict.UNKNOWN, f"default: {status_code}"
    if error:  # e.g. too many redirects: what was seen is not the page
        return Verdict.UNKNOWN, f"no final page ({error})"[:200]
    text = body.decode("utf-8", "replace").lower()
    for rule in rules:
        if _holds(rule, status_code, final_url, text):
            return rule.verdict, rule.label
    if status_code in (404, 410):
        return Verdict.OFFLINE, f"default: {status_code}"
    if 200 <= status_code < 300:
        return Verdict.ONLINE, "default: 2xx"
    return Verdict.UNKNOWN, f"default: {status_code}"
