"""TCO Art 5(4): a platform with two or more final removal orders in twelve months is shown as exposed (API,
admin list), counted by beat's task; withdrawn or lapsed orders, orders still within the 72 hours of scrutiny and
orders older than a year do not count; each change of exposure is audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from referral import exposure
from referral.actions import approval, withdrawal
from referral.models import RemovalOrder
from referral.tasks import refresh_exposure
from tests.conftest import ORDER, sign_in
from tests.referral.test_removal_orders import propose

pytestmark = pytest.mark.django_db


def orders(analyst, supervisor, case, n, start, days_ago):
    ids = [propose(analyst, case, start + i).pk for i in range(n)]
    referrals = [approval.item_approve(actor=supervisor, item_id=pk, instrument="removal_order",
                                       order=ORDER).referrals.get().pk for pk in ids]  # n orders of one URL
    RemovalOrder.objects.filter(referrals__in=referrals).update(
        issued_at=timezone.now() - timedelta(days=days_ago))
    return referrals


def legal_of(api, admin_user, platform):
    [row] = [p for p in api(admin_user).get("/api/v1/platforms/").json()["results"] if p["slug"] == platform.slug]
    return row["legal"]


def test_two_final_orders_in_a_year_make_a_platform_exposed(api, admin_user, analyst, supervisor, case, platform_a):
    recent = orders(analyst, supervisor, case, 1, 0, days_ago=1)  # still within the 72 hours of scrutiny
    orders(analyst, supervisor, case, 1, 10, days_ago=400)  # older than a year
    first = orders(analyst, supervisor, case, 1, 20, days_ago=30)
    assert refresh_exposure() == 0
    assert legal_of(api, admin_user, platform_a)["final_orders_12_months"] == 1
    assert legal_of(api, admin_user, platform_a)["exposed"] is False

    orders(analyst, supervisor, case, 1, 30, days_ago=10)
    assert refresh_exposure() == 1
    legal = legal_of(api, admin_user, platform_a)
    assert (legal["exposed"], legal["final_orders_12_months"]) == (True, 2) and legal["exposed_since"]
    assert AuditEvent.objects.filter(verb="platform.exposed", object_id=str(platform_a.pk)).count() == 1
    assert refresh_exposure() == 0  # nothing new: no second event
    assert AuditEvent.objects.filter(verb="platform.exposed").count() == 1

    # A withdrawn order is not final: back under the threshold.
    withdrawal.referral_withdraw(actor=supervisor, referral_id=first[0], reason="sent in error")
    assert refresh_exposure() == 1
    assert legal_of(api, admin_user, platform_a)["exposed"] is False
    assert AuditEvent.objects.filter(verb="platform.no_longer_exposed").count() == 1
    assert recent  # counted once its 72 hours are over:
    assert exposure.final_orders_by_platform(timezone.now() + timedelta(days=3))[platform_a.pk] == 2


def test_an_infringement_finding_does_not_count(analyst, supervisor, case, platform_a):
    referrals = orders(analyst, supervisor, case, 2, 40, days_ago=5)
    RemovalOrder.objects.filter(referrals=referrals[0]).update(scrutiny_decision="infringement")
    assert exposure.final_orders_by_platform() == {platform_a.pk: 1}


def test_the_admin_list_shows_exposure(client, admin_user, analyst, supervisor, case, platform_a):
    orders(analyst, supervisor, case, 2, 50, days_ago=5)
    refresh_exposure()
    sign_in(client, admin_user)  # past the second factor, as an admin must be
    page = client.get("/admin/platforms/platform/").content.decode()
    row = page[page.index("field-exposed"):][:300]
    assert "Exposed (TCO Art 5)" in page and 'alt="True"' in row
