"""What the search tests find: an item at a YouTube URL, one with notes, a referral with a platform's reference on
each of two platforms, and the cases they sit in; all made through the workflow's actions."""

import pytest

from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from referral.actions import outcomes

YOUTUBE_URL = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share"
YOUTU_BE = "https://youtu.be/dQw4w9WgXcQ?si=tracking"
NOTES = "Recruitment video re-uploaded by the Hydra outlet; same voice-over as last week"


@pytest.fixture
def youtube_item(analyst, case):
    return item_actions.item_log(actor=analyst, case=case, url=YOUTUBE_URL, kind="media", categories=["incitement"])


@pytest.fixture
def noted_item(analyst, platform_a):
    other = case_actions.case_create(actor=analyst, title="Hydra media outlet", description="")
    return item_actions.item_log(actor=analyst, case=other, url="https://tube.example/watch?v=hydra1", kind="post",
                                 categories=["incitement"], notes=NOTES)


@pytest.fixture
def referral_a(approved_referral, liaison_a):
    """ExampleTube's referral, acknowledged by its liaison with the platform's ticket number."""
    return outcomes.referral_record_status(actor=liaison_a, referral_id=approved_referral.pk, status="acknowledged",
                                           platform_reference="TUBE-4411")


@pytest.fixture
def referral_b(approved_referral_b, liaison_b):
    """Chirp's referral, acknowledged with its own ticket number."""
    return outcomes.referral_record_status(actor=liaison_b, referral_id=approved_referral_b.pk,
                                           status="acknowledged", platform_reference="CHIRP-77")
