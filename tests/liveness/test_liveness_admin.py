"""A platform's liveness rules are data an administrator edits in the admin: checked when saved, audited."""

from audit.models import AuditEvent
from liveness.models import LivenessRule

ADD = "/admin/liveness/livenessrule/add/"


def _form(platform, **changes):
    return {"platform": platform.pk, "position": 0, "kind": "body_marker", "value": "video unavailable",
            "verdict": "offline", "note": "", **changes}


def test_an_admin_adds_a_platforms_rule_and_it_is_audited(browser, admin_user, platform_a):
    response = browser(admin_user).post(ADD, _form(platform_a))
    assert response.status_code == 302, response.content[:500]
    rule = LivenessRule.objects.get()
    assert (rule.kind, rule.value, rule.verdict) == ("body_marker", "video unavailable", "offline")
    event = AuditEvent.objects.get(verb="admin.livenessrule.created")
    assert event.actor_id == admin_user.pk and event.after["value"] == "video unavailable"


def test_a_rule_that_cannot_be_used_is_refused(browser, admin_user, platform_a):
    client = browser(admin_user)
    for kind, value in (("final_url_regex", "(unclosed"), ("status_code", "40x"), ("status_code", "1000")):
        response = client.post(ADD, _form(platform_a, kind=kind, value=value))
        assert response.status_code == 200 and b"errorlist" in response.content, (kind, value)
    assert not LivenessRule.objects.exists()


def test_checks_are_evidence_read_only_in_the_admin(browser, admin_user):
    assert browser(admin_user).get("/admin/liveness/livenesscheck/add/").status_code == 403
