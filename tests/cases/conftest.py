"""Triage helpers: signed-in clients, items logged through the workflow, groups from the managed list."""

import pytest
from django.core.management import call_command

from cases.actions import assessment as assessment_actions
from cases.actions import items as item_actions
from cases.models import Group


@pytest.fixture
def groups(db):
    call_command("seed_groups", verbosity=0)
    return {g.name: g for g in Group.objects.all()}


@pytest.fixture
def log(analyst, case):
    """log(url, **assessment) → an item logged by the analyst, assessed if severity etc. are given.

    Categorised ("incitement") unless told otherwise: an item without a category cannot be proposed (TCO Art 2(7)).
    """
    counter = {"n": 0}

    def log_item(url=None, *, kind="post", in_case=None, categories=None, language="", **assessment):
        counter["n"] += 1
        url = url or f"https://tube.example/watch?v=t{counter['n']}"
        categories = ["incitement"] if categories is None else categories
        item = item_actions.item_log(actor=analyst, case=in_case or case, url=url, kind=kind,
                                 categories=categories, language=language)
        if assessment:
            item = assessment_actions.item_assess(actor=analyst, item_id=item.pk, categories=categories,
                                        language=language, **assessment)
        return item

    return log_item
