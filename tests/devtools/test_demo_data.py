"""`make run`'s demo data is a desk a unit can try removal orders on (issue 10): the unit authority comes from
run_demo's environment; every platform has its legal directory; one is established in another Member State, whose
authority gets the copy of an order; one has not had the procedures yet, so a first order to it waits for them."""

import pytest
from django.core.management import call_command

from cases.models import Item
from core.errors import Conflict
from platforms.models import Platform, PlatformLegal
from referral.actions import approval
from referral.models import Delivery, RemovalOrder
from tests.conftest import ORDER

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo_data", "--sandbox-url", "http://127.0.0.1:9")
    return tmp_path


def test_the_demo_has_a_legal_directory_another_member_state_and_a_platform_not_yet_informed(demo):
    directory = {legal.platform.slug: legal for legal in PlatformLegal.objects.select_related("platform")}
    assert {"tube", "chirp", "pinboard", "formhost", "ie-authority"} <= set(directory)
    assert directory["pinboard"].main_establishment == "IE"
    authority = Platform.objects.get(slug="ie-authority")
    assert authority.kind == "authority" and authority.contact_points.get().channel == "email"
    assert directory["formhost"].pre_information_sent_at is None
    assert directory["tube"].pre_information_sent_at is not None


def test_a_demo_order_to_pinboard_copies_ireland_and_one_to_formhost_waits(demo):
    from accounts.models import User

    supervisor = User.objects.get(username="supervisor")
    waiting = Item.objects.get(url="https://formhost.example/u/91/manual.pdf")
    assert waiting.status == "proposed"
    with pytest.raises(Conflict, match="(?i)procedure|pre-information|12 hours"):
        approval.item_approve(actor=supervisor, item_id=waiting.pk, instrument="removal_order", order=ORDER)
    pinboard = Item.objects.filter(url__startswith="https://pinboard.example/", status="proposed").first()
    referral = approval.item_approve(actor=supervisor, item_id=pinboard.pk, instrument="removal_order",
                                     order=ORDER).referrals.get()
    order = RemovalOrder.objects.get(referrals=referral)
    assert order.copy_to_host_authority and order.host_member_state == "IE"
    assert Delivery.objects.filter(contact_point__platform__slug="ie-authority").exists()
