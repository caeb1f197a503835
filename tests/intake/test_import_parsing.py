"""The import reads what analysts really upload: BOMs, other delimiters, blank lines, bad rows and bad bytes."""

from audit.models import AuditEvent
from cases.actions import cases as case_actions
from cases.actions import items as item_actions
from cases.models import Group, Item
from intake import actions as intake_actions
from intake.models import ImportJob
from platforms.content_urls import canonicalize
from tests.intake.conftest import report_rows, run_csv


def test_plain_csv_imports_items_with_platform_kind_categories_and_group(case, analyst, platform_a, platform_b):
    Group.objects.create(name="Amaq News Agency", aliases="Amaq\nA'maq")
    job = run_csv(case, analyst, "url,kind,categories,language,notes,group,source\n"
                  "https://www.tube.example/watch?v=1&utm_source=x,account,incitement;threat,ar,seen twice,amaq,tip 7\n"
                  "https://chirp.example/u/a/status/2,,instruction,,,,\n"
                  "https://unknown.example/x,,,,,,\n")
    assert job.status == "done", job.failure
    assert (job.total, job.processed, job.accepted, job.duplicates, job.rejected) == (3, 3, 3, 0, 0)
    first, second, third = Item.objects.filter(import_job_id=job.pk).order_by("id")
    assert first.canonical_url == "https://tube.example/watch?v=1"
    assert first.platform == platform_a and first.kind == "account" and first.language == "ar"
    assert first.categories == ["incitement", "threat"]
    assert first.group.name == "Amaq News Agency"
    assert "seen twice" in first.notes and "source: tip 7" in first.notes  # extra columns kept in the notes
    assert second.platform == platform_b and second.kind == "post"  # empty kind → post
    assert third.platform is None
    assert first.logged_by == analyst and first.status == "logged" and first.case == case
    rows = report_rows(job)
    assert rows[0] == ["line", "outcome", "item", "reason"]
    assert [r[:3] for r in rows[1:]] == [["2", "accepted", str(first.pk)], ["3", "accepted", str(second.pk)],
                                         ["4", "accepted", str(third.pk)]]


def test_one_audit_event_per_chunk_not_per_item(case, analyst, platform_a):
    body = "url\n" + "".join(f"https://tube.example/watch?v={i}\n" for i in range(12))
    job = run_csv(case, analyst, body)
    events = AuditEvent.objects.filter(object_type="importjob", object_id=str(job.pk))
    assert list(events.values_list("verb", flat=True)) == ["import.created", "import.started", "items.imported",
                                                           "import.finished"]
    ids = list(Item.objects.filter(import_job_id=job.pk).order_by("id").values_list("id", flat=True))
    assert events.get(verb="items.imported").after == {"count": 12, "first_id": ids[0], "last_id": ids[-1]}
    assert not AuditEvent.objects.filter(object_type="item").exists()


def test_utf8_bom_is_ignored(case, analyst, platform_a):
    job = run_csv(case, analyst, "\ufeffurl,kind\nhttps://tube.example/watch?v=bom,post\n".encode())
    assert job.status == "done" and job.accepted == 1


def test_semicolon_delimiter_is_sniffed(case, analyst, platform_a):
    job = run_csv(case, analyst, "url;kind;categories\nhttps://tube.example/watch?v=1;account;incitement,threat\n")
    assert job.accepted == 1, job.errors
    item = Item.objects.get(import_job_id=job.pk)
    assert item.kind == "account" and item.categories == ["incitement", "threat"]


def test_tab_delimiter_is_sniffed(case, analyst, platform_a):
    job = run_csv(case, analyst, "kind\turl\nchannel\thttps://tube.example/c/x\n", name="items.tsv")
    assert job.accepted == 1, job.errors
    assert Item.objects.get(import_job_id=job.pk).kind == "channel"


def test_file_without_url_column_fails_and_creates_nothing(case, analyst, platform_a):
    job = run_csv(case, analyst, "link,kind\nhttps://tube.example/watch?v=1,post\n")
    assert job.status == "failed"
    assert "no url column" in job.failure.lower()
    assert job.errors[0]["line"] == 1
    assert not Item.objects.exists()
    assert job.report  # the (empty) report is still written


def test_blank_lines_are_skipped_not_errors(case, analyst, platform_a):
    job = run_csv(case, analyst, "url\n\nhttps://tube.example/watch?v=1\n   \n\r\n,\nhttps://tube.example/watch?v=2\n\n")
    assert (job.accepted, job.rejected, job.processed) == (2, 0, 2)
    assert [r[0] for r in report_rows(job)[1:]] == ["3", "7"]  # real line numbers, blanks counted


def test_ten_thousand_malformed_rows_are_each_rejected_with_their_line(case, analyst, platform_a):
    body = "url,kind\nhttps://tube.example/watch?v=ok,post\n" + "".join(
        f"not a url {i},post\n" if i % 2 else f"ftp://tube.example/{i},post\n" for i in range(10_000))
    job = run_csv(case, analyst, body)
    assert job.status == "done"
    assert (job.accepted, job.rejected, job.processed) == (1, 10_000, 10_001)
    assert len(job.errors) == 300  # the job row keeps the first few hundred
    assert job.errors[0] == {"line": 3, "reason": "Only http and https URLs can be referred."}
    assert job.errors[1]["line"] == 4 and "control, formatting or blank" in job.errors[1]["reason"]
    rows = report_rows(job)
    rejected = [r for r in rows[1:] if r[1] == "rejected"]
    assert len(rejected) == 10_000  # the report keeps every one
    assert rejected[-1][0] == "10002"


def test_non_utf8_line_is_rejected_with_reason_others_imported(case, analyst, platform_a):
    body = (b"url,notes\nhttps://tube.example/watch?v=1,caf\xc3\xa9\n"
            b"https://tube.example/watch?v=2,caf\xe9 cp1252\nhttps://tube.example/watch?v=3,ok\n")
    job = run_csv(case, analyst, body)
    assert (job.accepted, job.rejected) == (2, 1)
    assert job.errors == [{"line": 3, "reason": "The line is not valid UTF-8 (byte 0xE9); save the file as UTF-8 "
                                                 "(in Excel: CSV UTF-8) and import it again."}]
    assert Item.objects.get(import_job_id=job.pk, url__endswith="v=1").notes == "café"


def test_two_megabyte_line_is_rejected_and_the_import_goes_on(case, analyst, platform_a):
    huge = "https://tube.example/watch?v=huge," + "x" * (2 * 1024 * 1024) + "\n"
    body = "url,notes\nhttps://tube.example/watch?v=1,a\n" + huge + "https://tube.example/watch?v=2,b\n"
    job = run_csv(case, analyst, body)
    assert (job.accepted, job.rejected) == (2, 1)
    assert job.errors[0]["line"] == 3 and "longer than 262,144 characters" in job.errors[0]["reason"]
    assert [r[0] for r in report_rows(job)[1:]] == ["2", "3", "4"]


def test_rtl_override_and_control_characters_are_rejected(case, analyst, platform_a):
    body = "url\nhttps://tube.example/watch?v=\u202eabc\nhttps://tube.example/a\x07b\nhttps://tube.example/ok\n"
    job = run_csv(case, analyst, body)
    assert (job.accepted, job.rejected) == (1, 2)
    assert {e["reason"] for e in job.errors} == {"The URL contains control, formatting or blank characters."}


def test_homoglyph_host_is_accepted_as_punycode_with_a_warning(case, analyst, platform_a):
    job = run_csv(case, analyst, "url\nhttps://tubе.example/watch?v=1\n")  # Cyrillic е
    assert job.accepted == 1, job.errors
    item = Item.objects.get(import_job_id=job.pk)
    assert item.canonical_url == canonicalize("https://tubе.example/watch?v=1")
    assert item.canonical_url.startswith("https://xn--")
    assert item.platform is None  # not tube.example
    assert "URL warning:" in item.notes and "look like Latin" in item.notes
    assert "look like Latin" in report_rows(job)[1][3]


def test_unknown_group_is_rejected_with_reason(case, analyst, platform_a):
    Group.objects.create(name="Al-Hayat Media Center")
    job = run_csv(case, analyst, "url,group\nhttps://tube.example/watch?v=1,al-hayat media center\n"
                  "https://tube.example/watch?v=2,Nobody Media\n")
    assert (job.accepted, job.rejected) == (1, 1)
    assert job.errors == [{"line": 3, "reason": "Unknown group 'Nobody Media': it is not in the list of groups "
                                                 "(ask an admin)."}]


def test_bad_kind_category_and_language_are_rejected(case, analyst, platform_a):
    job = run_csv(case, analyst, "url,kind,categories,language\nhttps://tube.example/1,tweet,,\n"
                  "https://tube.example/2,,propaganda,\nhttps://tube.example/3,,," + "x" * 17 + "\n")
    assert job.rejected == 3
    reasons = [e["reason"] for e in job.errors]
    assert "Unknown kind 'tweet'" in reasons[0]
    assert "Unknown categories propaganda" in reasons[1]
    assert "longer than 16" in reasons[2]


def test_reupload_of_the_same_file_creates_nothing_and_counts_duplicates(case, analyst, platform_a):
    body = "url\n" + "".join(f"https://tube.example/watch?v={i}\n" for i in range(50))
    body += "https://www.tube.example/watch?v=0&utm_campaign=x\n"  # same canonical URL as line 2
    first = run_csv(case, analyst, body)
    assert (first.accepted, first.duplicates) == (50, 1)
    count = Item.objects.count()
    again = run_csv(case, analyst, body)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 51, 0)
    assert Item.objects.count() == count
    rows = report_rows(again)[1:]
    original = Item.objects.get(import_job_id=first.pk, canonical_url="https://tube.example/watch?v=0")
    assert rows[0] == ["2", "duplicate", str(original.pk), f"Already in this case as item {original.pk}."]
    assert rows[-1][2] == str(original.pk)


def test_duplicates_across_cases_are_new_items_linked_to_the_first(case, analyst, platform_a):

    earlier = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=7", kind="post")
    other = case_actions.case_create(actor=analyst, title="Other case")
    job = run_csv(other, analyst, "url\nhttps://m.tube.example/watch?v=7\nhttps://tube.example/watch?v=8\n")
    assert (job.accepted, job.duplicates) == (2, 0)
    linked = Item.objects.get(case=other, canonical_url="https://tube.example/watch?v=7")
    assert linked.duplicate_of == earlier
    assert Item.objects.get(case=other, canonical_url="https://tube.example/watch?v=8").duplicate_of is None
    assert f"duplicate of item {earlier.pk}" in report_rows(job)[1][3]


def test_pasted_urls_keep_their_own_line_numbers(case, analyst, platform_a):

    job = intake_actions.create_import(actor=analyst, case=case, fileobj=intake_actions.paste_as_csv(
        "https://tube.example/1\n\nnot a url\nhttps://tube.example/2, with comma\n", "account"),
        original_name="pasted", source="paste", queue=False)
    job = intake_actions.run_import(job.pk)
    assert (job.accepted, job.rejected) == (1, 2)
    assert [e["line"] for e in job.errors] == [3, 4]
    assert Item.objects.get(import_job_id=job.pk).kind == "account"


def test_running_a_job_twice_does_nothing_the_second_time(case, analyst, platform_a):

    job = run_csv(case, analyst, "url\nhttps://tube.example/1\n")
    assert intake_actions.run_import(job.pk) is None
    assert ImportJob.objects.get(pk=job.pk).accepted == 1 and Item.objects.count() == 1


def test_rows_over_the_limit_stop_the_import_and_the_job_says_so(case, analyst, platform_a, settings):
    body = "url\n" + "".join(f"https://tube.example/{i}\n" for i in range(10))

    job = intake_actions.create_import(actor=analyst, case=case, fileobj=__import__("io").BytesIO(body.encode()),
                               queue=False)
    settings.IMPORT_MAX_ROWS = 4  # lowered after the upload was accepted (e.g. by the operator)
    job = intake_actions.run_import(job.pk)
    assert job.status == "done" and job.accepted == 4
    assert "Stopped at the limit of 4 rows" in job.failure and "line 6" in job.failure
    assert Item.objects.count() == 4


def test_closed_case_import_fails_cleanly(case, analyst, platform_a):
    import io


    job = intake_actions.create_import(actor=analyst, case=case, fileobj=io.BytesIO(b"url\nhttps://tube.example/1\n"),
                               queue=False)
    type(case).objects.filter(pk=case.pk).update(status="closed")
    job = intake_actions.run_import(job.pk)
    assert job.status == "failed" and "closed" in job.failure and not Item.objects.exists()
