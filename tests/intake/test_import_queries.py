"""The import's statements are a constant per chunk of CHUNK_ROWS lines, never one per row."""

import io

import pytest

from intake import actions as intake_actions
from intake import loading

# Outside the chunks: the claim (its transaction, the update, the job with its case and user, the audit event), the
# context (platform domains, groups), the id sequence's name (once per process), the finish (its transaction, two
# updates, the audit event, the notification and its recipient) and the job read back at the end.
FIXED = 16
# Each chunk: its transaction (SAVEPOINT and RELEASE here, inside the test's transaction; BEGIN and COMMIT in a
# worker), the duplicate lookup (one statement with the case's lock), the new ids, the audit event and the counts.
# The rows go in one COPY per chunk, which Django does not log: the count still pins that no row has a statement.
PER_CHUNK = 6


@pytest.mark.parametrize(("chunk_rows", "rows"), [(5, 5), (5, 20), (500, 500)])
def test_an_import_costs_a_fixed_number_of_statements_per_chunk(case, analyst, platform_a, monkeypatch,
                                                                  django_assert_max_num_queries, chunk_rows, rows):
    monkeypatch.setattr(loading, "CHUNK_ROWS", chunk_rows)
    body = "url,kind\n" + "".join(f"https://tube.example/watch?v={i},post\n" for i in range(rows))
    job = intake_actions.create_import(actor=analyst, case=case, fileobj=io.BytesIO(body.encode()), queue=False)
    chunks = -(-rows // chunk_rows)
    with django_assert_max_num_queries(FIXED + chunks * PER_CHUNK):
        job = intake_actions.run_import(job.pk)
    assert (job.status, job.accepted) == ("done", rows)


def test_a_chunk_of_duplicates_only_looks_them_up(case, analyst, platform_a, django_assert_max_num_queries):
    body = "url\n" + "".join(f"https://tube.example/watch?v={i}\n" for i in range(50))
    for expected in ((50, 0), (0, 50)):
        job = intake_actions.create_import(actor=analyst, case=case, fileobj=io.BytesIO(body.encode()), queue=False)
        # The second run writes nothing: no ids, no COPY, no audit event.
        with django_assert_max_num_queries(FIXED + (PER_CHUNK if expected[0] else PER_CHUNK - 2)):
            job = intake_actions.run_import(job.pk)
        assert (job.accepted, job.duplicates) == expected
