"""POST /api/v1/imports/ → 202; the queued job runs (in-process here: no worker in these tests); GET polls it."""

import csv
import io
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Item
from intake import actions as intake_actions
from intake.models import ImportJob


def upload(client, case, body: bytes, name="items.csv"):
    return client.post("/api/v1/imports/", {"file": SimpleUploadedFile(name, body, "text/csv"), "case": case.pk},
                       format="multipart")


def test_analyst_uploads_gets_202_then_polls_the_finished_job(api, analyst, case, platform_a,
                                                              django_capture_on_commit_callbacks):
    client = api(analyst)
    body = b"url,kind\nhttps://tube.example/watch?v=1,post\nnope,post\nhttps://tube.example/watch?v=1,post\n"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        res = upload(client, case, body)
    assert res.status_code == 202, res.content
    assert set(res.json()) == {"id", "status"} and res.json()["status"] == "pending"
    assert len(queued) == 1  # the task is queued after commit
    job_id = res.json()["id"]
    pending = client.get(f"/api/v1/imports/{job_id}/").json()
    assert pending["status"] == "pending" and pending["total"] == 3 and pending["processed"] == 0

    intake_actions.run_import(job_id)  # what the worker does with the queued message

    done = client.get(f"/api/v1/imports/{job_id}/").json()
    assert done == {"id": job_id, "status": "done", "total": 3, "processed": 3, "accepted": 1, "duplicates": 1,
                    "rejected": 1, "errors": [{"line": 3, "reason": "Only http and https URLs can be referred."}],
                    "failure": ""}
    report = client.get(f"/api/v1/imports/{job_id}/report/")
    assert report.status_code == 200 and report["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    item = Item.objects.get()
    assert rows == [["line", "outcome", "item", "reason"], ["2", "accepted", str(item.pk), ""],
                    ["3", "rejected", "", "Only http and https URLs can be referred."],
                    ["4", "duplicate", str(item.pk), f"Already in this case as item {item.pk}."]]


def test_supervisor_may_import_too(api, supervisor, case, platform_a):
    assert upload(api(supervisor), case, b"url\nhttps://tube.example/1\n").status_code == 202


def test_errors_in_the_job_view_are_cut_to_the_first_hundred(api, analyst, case):
    client = api(analyst)
    job_id = upload(client, case, b"url\n" + b"bad\n" * 250).json()["id"]
    intake_actions.run_import(job_id)
    data = client.get(f"/api/v1/imports/{job_id}/").json()
    assert data["rejected"] == 250 and len(data["errors"]) == 100
    assert len(ImportJob.objects.get(pk=job_id).errors) == 250


def test_over_the_byte_limit_is_413_and_nothing_is_stored(api, analyst, case, settings, media):
    settings.IMPORT_MAX_BYTES = 1000
    res = upload(api(analyst), case, b"url\n" + b"https://tube.example/watch?v=1\n" * 100)
    assert res.status_code == 413
    assert "1,000 bytes" in res.json()["detail"]
    assert not ImportJob.objects.exists()
    assert not (media / "imports").exists() or not any((media / "imports").rglob("*.csv"))


def test_over_the_row_limit_is_413_at_upload(api, analyst, case, settings):
    settings.IMPORT_MAX_ROWS = 5
    res = upload(api(analyst), case, b"url\n" + b"https://tube.example/watch?v=1\n" * 6)
    assert res.status_code == 413
    assert "limit is 5 rows" in res.json()["detail"]
    assert not ImportJob.objects.exists()


def test_liaison_may_not_import_or_read_imports(api, liaison_a, analyst, case):
    job_id = upload(api(analyst), case, b"url\nhttps://tube.example/1\n").json()["id"]
    client = api(liaison_a)
    assert upload(client, case, b"url\nhttps://tube.example/1\n").status_code == 403
    assert client.get(f"/api/v1/imports/{job_id}/").status_code == 403
    assert client.get(f"/api/v1/imports/{job_id}/report/").status_code == 403


def test_bad_requests_are_400_404_409_not_500(api, analyst, case):
    client = api(analyst)
    assert client.post("/api/v1/imports/", {"case": case.pk}, format="multipart").status_code == 400
    assert upload(client, type("C", (), {"pk": 999999})(), b"url\nhttps://a.example/\n").status_code == 404
    assert upload(client, case, b"").status_code == 400
    assert client.post("/api/v1/imports/", {"file": "x", "case": case.pk}, format="json").status_code == 415
    assert client.get(f"/api/v1/imports/{uuid.uuid4()}/").status_code == 404
    job_id = upload(client, case, b"url\nhttps://tube.example/1\n").json()["id"]
    res = client.get(f"/api/v1/imports/{job_id}/report/")
    assert res.status_code == 409 and "pending" in res.json()["detail"]


def test_import_command_runs_the_same_path_and_prints_counts(case, analyst, platform_a, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "load.csv"
    path.write_text("url;kind\nhttps://tube.example/1;post\nhttps://tube.example/1;post\nbad;post\n")
    out = io.StringIO()
    call_command("import_items", str(path), "--case", str(case.pk), "--user", analyst.username, stdout=out)
    text = out.getvalue()
    assert "done. 3 rows: 1 accepted, 1 duplicates, 1 rejected." in text
    assert "line 4:" in text
    job = ImportJob.objects.get()
    assert job.source == "command" and job.created_by == analyst


def test_import_command_refuses_a_missing_file_and_unknown_case(case, tmp_path):
    import pytest
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_items", str(tmp_path / "nope.csv"), "--case", str(case.pk))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_items", str(tmp_path / "nope.csv"), "--case", "424242")
