"""Bulk intake: imports built through referral.intake, with each test's files under its own MEDIA_ROOT."""

import io

import pytest

from intake import actions as intake_actions


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def run_csv(case, user, content: bytes | str, *, name="items.csv", source="csv"):
    """Store `content` as an import of `case` and run it in-process, as the worker would."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    job = intake_actions.create_import(actor=user, case=case, fileobj=io.BytesIO(content), original_name=name,
                               source=source, queue=False)
    return intake_actions.run_import(job.pk)


def report_rows(job) -> list[list[str]]:
    import csv

    with job.report.open("rb") as f:
        return list(csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline="")))
