"""Deciding on every proposal matching a filter: a ReviewJob, created (role checked, audited) and run in chunks read
by keyset in Review's order through the bulk review actions; four-eyes skips listed in the report; safe to run
twice; a creator who may no longer decide is refused by the action itself. The pages: create, progress, report.

The run is called here as the task calls it (referral/tasks.py is one line over review_job_run); a real Celery
worker runs it in tests/browser/test_review_browser.py."""

import pytest

from audit.models import AuditEvent
from cases.actions import items as item_actions
from cases.models import Item
from core.errors import InvalidInput, NotPermitted
from referral.actions import review_jobs
from referral.models import Referral, ReviewJob
from referral.tasks import run_review_job
from tests.conftest import make_user


@pytest.fixture
def propose(analyst, case, platform_a, platform_b):
    counter = {"n": 0}

    def make(host="tube.example/watch?v=", by=None, **assessment):
        counter["n"] += 1
        author = by or analyst
        item = item_actions.item_log(actor=author, case=case, url=f"https://{host}j{counter['n']}", kind="post",
                                     categories=["threat"])
        return item_actions.item_propose(actor=author, item_id=item.pk)

    return make


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(review_jobs, "CHUNK", 3)


def status_of(items) -> set[str]:
    return set(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("status", flat=True))


def test_approve_every_proposal_matching_a_filter_in_chunks(supervisor, analyst, propose, platform_a, small_chunks):
    promoted = make_user("pat_promoted", "analyst")
    tube = [propose() for _ in range(8)]
    own = [propose(by=promoted) for _ in range(2)]
    chirp = [propose("chirp.example/u/x/status/") for _ in range(3)]
    promoted.role = "supervisor"
    promoted.save(update_fields=["role"])
    job = review_jobs.review_job_create(actor=promoted, decision="approve", instrument="removal_order",
                                        reason="Incites to terrorist offences (Art 2(7)(a)).",
                                        filters={"platform": platform_a.pk}, query=f"platform={platform_a.pk}",
                                        queue=False)
    assert (job.status, job.total) == ("pending", 10)
    created = AuditEvent.objects.get(verb="review_job.created", object_id=str(job.pk))
    assert created.actor_id == promoted.pk and created.after["filters"] == {"platform": platform_a.pk}

    job = review_jobs.review_job_run(job.pk)
    assert (job.status, job.done, job.skipped, job.failed, job.processed) == ("done", 8, 2, 0, 10)
    assert status_of(tube) == {"approved"} and status_of(own) == {"proposed"} and status_of(chirp) == {"proposed"}
    assert set(Referral.objects.values_list("instrument", flat=True)) == {"removal_order"}
    assert sorted(e["item"] for e in job.report) == sorted(i.pk for i in own)
    assert {e["outcome"] for e in job.report} == {"skipped"} and "Four-eyes" in job.report[0]["detail"]
    assert AuditEvent.objects.filter(verb="review_job.finished", object_id=str(job.pk)).count() == 1

    assert review_jobs.review_job_run(job.pk) is None  # safe to run twice: a job that is not pending is left alone
    run_review_job(str(job.pk))  # the task, as a worker calls it
    assert ReviewJob.objects.get(pk=job.pk).done == 8 and Referral.objects.count() == 8


def test_return_every_matching_proposal_with_a_reason(supervisor, propose, small_chunks):
    items = [propose() for _ in range(7)]
    job = review_jobs.review_job_create(actor=supervisor, decision="return", reason="Add the channel handle",
                                        filters={"category": "threat"}, queue=False)
    job = review_jobs.review_job_run(job.pk)
    assert (job.status, job.done, job.failed) == ("done", 7, 0)
    assert set(Item.objects.filter(pk__in=[i.pk for i in items]).values_list("decision_reason", flat=True)) == \
        {"Add the channel handle"}


def test_refusals_are_counted_and_reported(supervisor, propose, small_chunks):
    """An item the approval refuses (no platform matched) is failed with its reason; the rest are approved."""
    fine = [propose() for _ in range(4)]
    nowhere = propose("unclaimed.example/x")
    job = review_jobs.review_job_run(review_jobs.review_job_create(actor=supervisor, decision="approve", filters={},
                                                                   queue=False).pk)
    assert (job.status, job.done, job.skipped, job.failed) == ("done", 4, 0, 1)
    assert job.report == [{"item": nowhere.pk, "detail": job.report[0]["detail"], "status_code": 409,
                           "outcome": "failed"}]
    assert status_of(fine) == {"approved"}


def test_a_creator_who_may_no_longer_decide_is_refused_by_the_action(supervisor, propose):
    items = [propose() for _ in range(3)]
    job = review_jobs.review_job_create(actor=supervisor, decision="reject", reason="No", filters={}, queue=False)
    supervisor.role = "analyst"
    supervisor.save(update_fields=["role"])
    job = review_jobs.review_job_run(job.pk)
    assert job.status == "failed" and "does not allow" in job.failure
    assert status_of(items) == {"proposed"}


def test_creation_checks_the_role_the_decision_and_the_reason(analyst, supervisor, propose):
    with pytest.raises(NotPermitted):
        review_jobs.review_job_create(actor=analyst, decision="approve", filters={}, queue=False)
    with pytest.raises(InvalidInput):
        review_jobs.review_job_create(actor=supervisor, decision="reject", reason=" ", filters={}, queue=False)
    with pytest.raises(InvalidInput):
        review_jobs.review_job_create(actor=supervisor, decision="nuke", filters={}, queue=False)
    with pytest.raises(InvalidInput):
        review_jobs.review_job_create(actor=supervisor, decision="approve", instrument="bomb", filters={},
                                      queue=False)
    assert not ReviewJob.objects.exists()


def test_the_pages_create_the_job_from_the_filter_and_show_its_progress_and_report(browser, supervisor, propose,
                                                                                    platform_a, monkeypatch):
    propose(), propose(), propose("chirp.example/u/y/status/")
    queued = []
    monkeypatch.setattr(review_jobs, "send_task_on_commit", lambda name, args=(): queued.append((name, args)))
    client = browser(supervisor)
    page = client.get(f"/review/?platform={platform_a.pk}").content.decode()
    assert f'name="filter" value="platform={platform_a.pk}"' in page
    res = client.post("/review/jobs/", {"filter": f"platform={platform_a.pk}&after=1.2.3.4", "decision": "approve",
                                        "instrument": "referral"})
    job = ReviewJob.objects.get()
    assert res.status_code == 302 and res["Location"] == f"/review/jobs/{job.pk}/"
    assert queued == [("referral.run_review_job", [str(job.pk)])]
    assert (job.filters["platform"], job.total, job.query) == (platform_a.pk, 2, f"platform={platform_a.pk}")
    progress = client.get(f"/review/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in progress and "0 of 2 matching proposals" in progress
    review_jobs.review_job_run(job.pk)
    report = client.get(f"/review/jobs/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in report and "2 of 2 matching proposals" in report and "Report" in report
    refused = client.post("/review/jobs/", {"filter": "", "decision": "reject", "reason": ""}, follow=True)
    assert "Nothing was started" in refused.content.decode() and ReviewJob.objects.count() == 1
