"""The admin site works for the desk's admin and never shows a webhook secret."""

import pytest

from platforms.models import ContactPoint
from tests.conftest import sign_in

SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/accounts/userapikey/",
                                  "/admin/platforms/platform/", "/admin/cases/group/", "/admin/cases/item/",
                                  "/admin/referral/referral/", "/admin/referral/delivery/",
                                  "/admin/audit/auditevent/", "/admin/cases/case/"])
def test_admin_pages_open_for_the_admin(client, admin_user, approved_referral, path):
    sign_in(client, admin_user)
    assert client.get(path).status_code == 200


def test_platform_page_never_shows_the_secret(client, admin_user, platform_a):
    ContactPoint.objects.update(secret=SECRET)
    sign_in(client, admin_user)
    page = client.get(f"/admin/platforms/platform/{platform_a.pk}/change/").content.decode()
    assert SECRET not in page and SECRET[6:] not in page


def test_workflow_rows_are_read_only(client, admin_user, approved_referral):
    sign_in(client, admin_user)
    res = client.post(f"/admin/referral/referral/{approved_referral.pk}/change/", {"status": "removed"})
    assert res.status_code == 403
    approved_referral.refresh_from_db()
    assert approved_referral.status == "queued"


def test_analysts_cannot_open_the_admin(client, analyst):
    client.force_login(analyst)
    assert client.get("/admin/").status_code == 302
