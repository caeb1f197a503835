"""Every HTML page carries a strict Content Security Policy and the usual hardening headers."""

import pytest

from tests.conftest import sign_in

STRICT = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
          "frame-ancestors 'none'"]


@pytest.mark.parametrize("path", ["/login/", "/cases/", "/queue/", "/review/", "/referrals/", "/alerts/",
                                  "/deliveries/dead/", "/deliveries/manual/", "/me/preferences/"])
def test_html_pages_send_a_strict_csp(client, supervisor, path):
    if path != "/login/":
        sign_in(client, supervisor)
    res = client.get(path)
    assert res.status_code in (200, 403)
    csp = res["Content-Security-Policy"]
    for directive in STRICT:
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert res["X-Frame-Options"] == "DENY"
    assert res["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_or_style_in_templates():
    """With script-src and style-src 'self', inline code would be blocked: keep it out of the templates."""
    from pathlib import Path

    offenders = []
    for template in (Path(__file__).resolve().parents[2] / "templates").rglob("*.html"):
        if template.parts[-2] == "email":  # mail bodies are not served by us
            continue
        text = template.read_text()
        if "<script>" in text or " style=" in text or " onclick=" in text or "<style" in text:
            offenders.append(template.name)
    assert offenders == []
