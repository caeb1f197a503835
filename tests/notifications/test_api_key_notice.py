"""An API key issued for someone by someone else tells them and the other admins (a key nobody asked for is
noticed): from the service (command line, scripts) and from the admin's add form. Never the key itself."""

import pytest

from accounts import services as account_services
from accounts.models import UserAPIKey
from notifications.models import Notification
from tests.conftest import make_user, sign_in

pytestmark = pytest.mark.django_db


def told(kind="api_key_issued"):
    return {n.recipient.username: n for n in Notification.objects.filter(kind=kind).select_related("recipient")}


def test_a_key_issued_for_an_analyst_tells_them_and_the_other_admins(admin_user, analyst, supervisor):
    other_admin = make_user("ada_admin", "admin")
    record, key = account_services.api_key_issue(actor=admin_user, user=analyst, name="ci")
    notices = told()
    assert set(notices) == {analyst.username, other_admin.username}  # not the issuer, not an unrelated supervisor
    notice = notices[analyst.username]
    assert notice.urgent and notice.object_id == record.prefix and record.prefix in notice.message
    assert key not in notice.message and key.split(".")[1] not in notice.message
    assert admin_user.username in notice.message


def test_a_key_from_the_command_line_tells_the_user_and_every_admin(admin_user, liaison_a):
    account_services.api_key_issue(actor=None, user=liaison_a)
    assert set(told()) == {liaison_a.username, admin_user.username}  # liaisons are told too
    assert "the command line" in told()[liaison_a.username].message


def test_an_admin_issuing_their_own_key_tells_only_the_other_admins(admin_user):
    other_admin = make_user("ada_admin", "admin")
    account_services.api_key_issue(actor=admin_user, user=admin_user)
    assert set(told()) == {other_admin.username}


def test_a_key_added_in_the_admin_tells_the_user(client, admin_user, analyst):
    other_admin = make_user("ada_admin", "admin")
    sign_in(client, admin_user)  # past the second factor, as an admin must be
    res = client.post("/admin/accounts/userapikey/add/", {
        "name": "ci key", "user": str(analyst.pk), "expiry_date_0": "", "expiry_date_1": "", "_save": "Save"})
    assert res.status_code == 302
    key = UserAPIKey.objects.get(name="ci key")
    assert set(told()) == {analyst.username, other_admin.username}
    assert told()[analyst.username].object_id == key.prefix


def test_a_failed_issue_tells_nobody(admin_user, analyst):
    with pytest.raises(Exception, match="positive"):
        account_services.api_key_issue(actor=admin_user, user=analyst, expires_days=0)
    assert told() == {}
