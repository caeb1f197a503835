"""A referral's content checked by the desk itself, against local pages posing as the platform's behind the
local egress proxy: removed, staying online, failing then answering, coming back, sending to its login page."""

from datetime import timedelta

from liveness.models import LivenessCheck, LivenessRule, LivenessState, RuleKind
from notifications.models import Notification
from tests.liveness.conftest import check_at

GONE = "<h1>This video is unavailable</h1>"
PAGE = "<h1>A video</h1><p>propaganda</p>"


def test_a_page_removed_after_the_referral_is_found_offline_with_its_time_to_offline(received, proxy, tls_pages):
    tls_pages.page("/watch?v=1", (200, PAGE), (200, PAGE), (404, GONE))
    referral = received("https://tube.example/watch?v=1")

    assert check_at(referral, minutes=15, seconds=1) == {"online": 1}
    assert check_at(referral, hours=1, seconds=1) == {"online": 1}
    assert check_at(referral, hours=6, seconds=1) == {"offline": 1}

    state = LivenessState.objects.get(referral=referral)
    assert state.state == "offline" and state.checks == 3
    assert timedelta(hours=6, seconds=1) <= state.offline_at - referral.sent_at < timedelta(hours=6, seconds=5)
    offline = LivenessCheck.objects.get(referral=referral, verdict="offline")
    assert offline.status_code == 404 and offline.matched_rule == "default: 404" and offline.via_proxy
    assert offline.final_url == "https://tube.example/watch?v=1" and len(offline.body_sha256) == 64
    assert ("CONNECT", "tube.example:443") in proxy.requests  # https through the proxy, resolved by it


def test_content_offline_twice_in_a_row_ends_the_schedule(received, proxy, tls_pages):
    tls_pages.page("/watch?v=2", (410, GONE))
    referral = received("https://tube.example/watch?v=2")
    check_at(referral, minutes=15, seconds=1)
    assert LivenessCheck.objects.filter(referral=referral, finished_at__isnull=True).count() == 1
    check_at(referral, hours=1, seconds=1)
    state = LivenessState.objects.get(referral=referral)
    assert state.finished and state.consecutive_offline == 2
    assert not LivenessCheck.objects.filter(referral=referral, finished_at__isnull=True).exists()


def test_a_page_that_stays_online_is_flagged_for_follow_up_a_day_after_receipt(received, proxy, tls_pages):
    tls_pages.page("/watch?v=3", (200, PAGE))
    referral = received("https://tube.example/watch?v=3")
    for after in (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6)):
        check_at(referral, seconds=after.total_seconds() + 1)
        assert LivenessState.objects.get(referral=referral).followup_flagged_at is None
    check_at(referral, hours=24, seconds=1)
    state = LivenessState.objects.get(referral=referral)
    assert state.state == "online" and state.followup_flagged_at - referral.sent_at >= timedelta(hours=24)


def test_a_server_error_then_a_page_is_unknown_never_offline(received, proxy, tls_pages):
    tls_pages.page("/watch?v=4", (500, "oops"), (503, "busy"), (200, PAGE))
    referral = received("https://tube.example/watch?v=4")
    assert check_at(referral, minutes=15, seconds=1) == {"unknown": 1}
    state = LivenessState.objects.get(referral=referral)
    assert state.state == "unknown" and state.offline_at is None
    assert check_at(referral, hours=1, seconds=1) == {"unknown": 1}
    assert check_at(referral, hours=6, seconds=1) == {"online": 1}
    state.refresh_from_db()
    assert state.state == "online" and state.offline_at is None and state.consecutive_offline == 0
    assert list(LivenessCheck.objects.filter(referral=referral).exclude(finished_at=None)
                .values_list("status_code", "verdict")) == [(500, "unknown"), (503, "unknown"), (200, "online")]


def test_content_that_comes_back_tells_the_approver_and_the_proposer(received, proxy, tls_pages, analyst,
                                                                     supervisor):
    tls_pages.page("/watch?v=5", (404, GONE), (200, PAGE))
    referral = received("https://tube.example/watch?v=5")
    check_at(referral, minutes=15, seconds=1)
    assert not Notification.objects.filter(kind="reappeared").exists()
    check_at(referral, hours=1, seconds=1)

    state = LivenessState.objects.get(referral=referral)
    assert state.reappeared and state.state == "online" and state.offline_at is not None
    told = Notification.objects.filter(kind="reappeared", object_type="referral", object_id=str(referral.pk))
    assert sorted(told.values_list("recipient__username", flat=True)) == [analyst.username, supervisor.username]
    assert "online again" in told.first().message


def test_a_redirect_to_the_login_page_is_offline_by_the_platforms_rule(received, proxy, tls_pages, tube):
    LivenessRule.objects.create(platform=tube, kind=RuleKind.FINAL_URL_REGEX, value=r"^https://tube\.example/login",
                                verdict="offline", note="removed videos send visitors to the login page")
    tls_pages.page("/watch?v=6", (302, "", {"Location": "/login?next=/watch%3Fv%3D6"}))
    tls_pages.page("/login?next=/watch%3Fv%3D6", (200, "<form>Sign in</form>"))
    referral = received("https://tube.example/watch?v=6")

    assert check_at(referral, minutes=15, seconds=1) == {"offline": 1}
    check = LivenessCheck.objects.get(referral=referral, sequence=0)
    assert check.redirects == 1 and check.final_url.startswith("https://tube.example/login")
    assert check.matched_rule.startswith(f"rule {tube.liveness_rules.get().pk}: final_url_regex")


def test_a_marker_in_the_page_is_offline_by_the_platforms_rule(received, proxy, pages, tube):
    LivenessRule.objects.create(platform=tube, kind=RuleKind.BODY_MARKER, value="Video is UNAVAILABLE",
                                verdict="offline")
    pages.page("/watch?v=7", (200, GONE))
    referral = received("http://tube.example/watch?v=7")  # http: to the proxy in absolute form
    assert check_at(referral, minutes=15, seconds=1) == {"offline": 1}
    assert ("GET", "tube.example") in proxy.requests


def test_a_host_resolving_to_a_private_address_is_refused_without_the_proxy(received, pages, settings):
    pages.page("/private", (200, PAGE))
    referral = received(f"http://localhost:{pages.port}/private", platform_slug="tube")
    settings.ALLOW_PRIVATE_ENDPOINTS = False  # production: only public addresses, and no proxy set

    assert check_at(referral, minutes=15, seconds=1) == {"unknown": 1}
    check = LivenessCheck.objects.get(referral=referral, sequence=0)
    assert check.error.startswith("refused:") and "private" in check.error and not check.via_proxy
    assert pages.hits("/private") == 0  # nothing was fetched


def test_a_redirect_into_the_private_network_is_refused_without_the_proxy(received, pages, settings, monkeypatch):
    pages.page("/hop", (302, "", {"Location": "http://169.254.169.254/latest/meta-data/"}))
    referral = received(f"http://localhost:{pages.port}/hop", platform_slug="tube")
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    from platforms import endpoints

    real = endpoints._is_private
    # 127.0.0.1 stands for a public host (this test's pages are on loopback): the guard, which also judges the
    # address each connection goes to (platforms/egress.py), lets the first hop through and judges the redirect.
    monkeypatch.setattr(endpoints, "_is_private", lambda address: address != "127.0.0.1" and real(address))
    assert check_at(referral, minutes=15, seconds=1) == {"unknown": 1}
    check = LivenessCheck.objects.get(referral=referral, sequence=0)
    assert check.redirects == 1 and check.error.startswith("refused:") and pages.hits("/hop") == 1
