"""Who hears about what, through the real workflow: a threat to life (supervisors), an item returned (its
proposer), an import finished (its author), a dead letter (the approver and the proposer)."""

import io

import pytest

from cases.actions import assessment
from cases.actions import items as item_actions
from intake import actions as intake_actions
from notifications.models import Notification
from notifications.selectors import link_for
from platforms import services as platform_services
from referral.actions import approval
from referral.models import Delivery
from referral.outbox import dispatcher
from tests.notifications.conftest import flag_threat_to_life
from tests.receiver import Receiver

pytestmark = pytest.mark.django_db
WHSEC = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="


def told():
    return sorted(Notification.objects.values_list("recipient__username", "kind", "object_type", "object_id"))


def test_a_threat_to_life_tells_every_supervisor_once(analyst, supervisor, supervisor_2, case, platform_a):
    item = flag_threat_to_life(analyst, case)
    expected = [("sara_supervisor", "threat_to_life", "item", str(item.pk)),
                ("sven_supervisor", "threat_to_life", "item", str(item.pk))]
    assert told() == expected
    assert all(n.urgent for n in Notification.objects.all())
    assert link_for("item", str(item.pk)) == f"/items/{item.pk}/"
    # Assessing it again, still a threat to life, raises nothing new.
    assessment.item_assess_fields(actor=analyst, item_id=item.pk, changes={"severity": 6})
    assert told() == expected


def test_a_supervisor_flagging_a_threat_to_life_tells_the_other_supervisors(analyst, supervisor, supervisor_2, case):
    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/x", kind="post")
    assessment.item_assess_fields(actor=supervisor, item_id=item.pk, changes={"threat_to_life": True})
    assert told() == [("sven_supervisor", "threat_to_life", "item", str(item.pk))]


def test_a_returned_item_tells_its_proposer(proposed_item, analyst, supervisor):
    approval.item_return(actor=supervisor, item_id=proposed_item.pk, reason="Which category? Add the screenshot.")
    assert told() == [("anna_analyst", "item_returned", "item", str(proposed_item.pk))]
    assert "Which category?" in Notification.objects.get().message


def test_a_finished_import_tells_its_author(analyst, case, platform_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    job = intake_actions.create_import(actor=analyst, case=case, original_name="urls.csv", queue=False,
                                       fileobj=io.BytesIO(b"url\nhttps://tube.example/watch?v=i1\nnot a url\n"))
    intake_actions.run_import(job.pk)
    assert told() == [("anna_analyst", "import_done", "import", str(job.pk))]
    notification = Notification.objects.get()
    assert "1 accepted" in notification.message and "1 rejected" in notification.message
    assert link_for("import", notification.object_id) == f"/imports/{job.pk}/"


def test_a_dead_letter_tells_the_approver_and_the_proposer(analyst, supervisor, supervisor_2, case):
    with Receiver(default_status=400) as receiver:
        platform_services.platform_create(
            actor=None, slug="vidz", name="Vidz", domains=["vidz.example"],
            contact_points=[{"channel": "webhook", "endpoint": receiver.url + "/h", "secret": WHSEC}])
        item = item_actions.item_log(actor=analyst, case=case, url="https://vidz.example/v/1", kind="post",
                                     categories=["incitement"])
        item_actions.item_propose(actor=analyst, item_id=item.pk)
        approval.item_approve(actor=supervisor, item_id=item.pk)
        assert dispatcher.dispatch_due() == {"stopped": 1}
    delivery = Delivery.objects.get()
    assert told() == [("anna_analyst", "dead_letter", "delivery", str(delivery.pk)),
                      ("sara_supervisor", "dead_letter", "delivery", str(delivery.pk))]  # not sven: not his
    assert all(n.urgent for n in Notification.objects.all())
    assert link_for("delivery", str(delivery.pk)) == f"/deliveries/dead/#delivery-{delivery.pk}"
