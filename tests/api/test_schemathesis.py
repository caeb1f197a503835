"""schemathesis against the served OpenAPI schema, on a real server (pytest-django's live server on PostgreSQL),
with each role's API key: no answer is a server error, and every answer conforms to the schema (its status code
is documented, its content type is the documented one, its body and headers match the documented schema).

Bounded: each operation gets MAX_EXAMPLES generated requests (positive and negative data; path ids drawn from
the seeded rows as well as generated), and once a role has used ROLE_BUDGET_SECONDS the operations left get
LATE_EXAMPLES each, so every operation is still called. Deterministic: hypothesis runs derandomized (a fixed
seed) without its example database. It counts the requests it sent and fails when an operation was never called
or the schema held fewer operations than expected, so a run that tested nothing cannot pass.

Without a key, or with an unknown one, every operation answers the documented 401.

Nothing leaves 127.0.0.1: the seeded contact points point at loopback, and no Celery worker runs here, so the
deliveries that approvals queue are never attempted (the last assertion checks it).
"""

import io
import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import services as account_services
from cases.actions import items as item_actions
from evidence import actions as evidence_actions
from intake import actions as intake_actions
from platforms import services as platform_services
from referral.actions import approval
from referral.models import Delivery, DeliveryAttempt
from referral.outbox.webhook import generate_secret
from tests.conftest import ORDER, make_platform, make_user

MAX_EXAMPLES = 12  # generated requests per operation and mode
LATE_EXAMPLES = 2  # per operation and mode once the role's budget is spent
ROLE_BUDGET_SECONDS = 50
MIN_OPERATIONS = 40  # the API's operations when this was written: fewer means the schema lost some
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
ROLES = ["analyst", "supervisor", "liaison", "admin"]
MIN_DONE = {"analyst": 10, "supervisor": 10, "liaison": 3, "admin": 8}  # operations that must have answered 2xx

pytestmark = pytest.mark.django_db(transaction=True)

PNG = bytes.fromhex(  # a 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5270d"
    "ea0000000049454e44ae426082")


def _seed(case, analyst, supervisor, admin_user, liaison_a, approved_referral, approved_referral_b) -> dict:
    """A unit's desk in miniature: referrals of both instruments, items in several states, a delivery per channel,
    evidence, an import; returns the ids the path parameters are drawn from."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    manual = platform_services.platform_create(
        actor=None, slug="formhost", name="FormHost", domains=["formhost.example"],
        contact_points=[{"channel": "manual", "endpoint": "http://127.0.0.1:9/form"}], legal=None)
    make_platform("pinboard", ["pinboard.example"], endpoint="http://127.0.0.1:9/pin")
    items = {}
    for name, url in [("order", "https://tube.example/watch?v=order1"), ("manual", "https://formhost.example/p/1"),
                      ("logged", "https://tube.example/watch?v=logged"), ("nowhere", "https://unknown.example/x"),
                      ("proposed", "https://chirp.example/u/x/status/7")]:
        items[name] = item_actions.item_log(actor=analyst, case=case, url=url, kind="post",
                                            categories=["incitement"])
    for name in ("order", "manual", "proposed"):
        item_actions.item_propose(actor=analyst, item_id=items[name].pk)
    order = approval.item_approve(actor=supervisor, item_id=items["order"].pk, instrument="removal_order",
                                  order=ORDER).referrals.get()
    approval.item_approve(actor=supervisor, item_id=items["manual"].pk)
    contact_point = approved_referral.platform.contact_points.first()
    platform_services.contact_point_rotate_secret(actor=admin_user, contact_point_id=contact_point.pk,
                                                  secret=generate_secret(), overlap_days=2)
    evidence_actions.evidence_add(actor=analyst, item_id=items["logged"].pk,
                                  upload=SimpleUploadedFile("shot.png", PNG, content_type="image/png"))
    job = intake_actions.create_import(actor=analyst, case=case, fileobj=io.BytesIO(b"url\nhttps://tube.example/1\n"),
                                       original_name="urls.csv", queue=False)
    return {
        "/api/v1/cases/{id}/": [case.pk],
        "/api/v1/items/": [i.pk for i in items.values()] + [approved_referral.item_id],
        "/api/v1/referrals/": [approved_referral.pk, approved_referral_b.pk, order.pk],
        "/api/v1/deliveries/": [str(pk) for pk in Delivery.objects.values_list("pk", flat=True)],
        "/api/v1/contact-points/": [contact_point.pk, manual.contact_points.first().pk],
        "/api/v1/platforms/": [approved_referral.platform_id, manual.pk],
        "/api/v1/imports/": [str(job.pk)],
    }


def _ids_for(path: str, seeded: dict) -> list:
    for prefix, ids in seeded.items():
        if path.startswith(prefix.replace("{id}/", "")):
            return ids
    return []


def _strategy(operation, seeded: dict):
    """Requests for `operation`: generated whole, and with the path's id one of the seeded rows."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    ids = _ids_for(operation.path, seeded) if "{id}" in operation.path else []
    if ids:
        strategies += [st.sampled_from(ids).flatmap(
            lambda pk, mode=mode: operation.as_strategy(generation_mode=mode, path_parameters={"id": pk}))
            for mode in modes]
    return st.one_of(strategies)


def _exercise(operation, strategy, *, base_url, headers, examples, sent: dict) -> str | None:
    """Sends `examples` generated requests; the first failing one's report, or None."""

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        sent.setdefault(operation.label, Counter())[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # checks failed (a group), or no answer: with the request
        return f"{operation.label}: {exc}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_conforms_to_the_schema(role, live_server, settings, case, analyst, supervisor, admin_user,
                                             liaison_a, approved_referral, approved_referral_b):
    settings.ALLOW_PRIVATE_ENDPOINTS = True  # contact points on 127.0.0.1 (and no DNS look-ups of generated hosts)
    # Unthrottled: a run sends more than a client may (429 and its Retry-After are tested in test_throttling.py).
    settings.API_THROTTLE_RATE = settings.API_THROTTLE_BULK_RATE = "off"
    seeded = _seed(case, analyst, supervisor, admin_user, liaison_a, approved_referral, approved_referral_b)
    user = {"analyst": analyst, "supervisor": supervisor, "liaison": liaison_a,
            "admin": admin_user}.get(role) or make_user(role, role)
    _, key = account_services.api_key_issue(actor=None, user=user)
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/", headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= MIN_OPERATIONS, [op.label for op in operations]

    started, sent, failures = time.monotonic(), {}, []
    for operation in operations:
        late = time.monotonic() - started > ROLE_BUDGET_SECONDS
        failure = _exercise(operation, _strategy(operation, seeded), base_url=live_server.url, headers=headers,
                            examples=LATE_EXAMPLES * 4 if late else MAX_EXAMPLES * 4, sent=sent)
        if failure:
            failures.append(failure)
    elapsed = time.monotonic() - started

    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(failures)
    never = [op.label for op in operations if not sent.get(op.label)]
    assert not never, f"never called as {role}: {never}"
    # The key worked (a run answered 401 throughout would test nothing) and the role did get its work done.
    statuses = sum(sent.values(), Counter())
    done = [label for label, counts in sent.items() if any(200 <= code < 300 for code in counts)]
    assert statuses[401] == 0 and len(done) >= MIN_DONE[role], (sorted(done), statuses)
    print(f"{role}: {statuses.total()} requests, {len(operations)} operations ({len(done)} answered 2xx), "
          f"{elapsed:.0f} s: {dict(sorted(statuses.items()))}")
    loopback = ("http://127.0.0.1:", "https://127.0.0.1:")
    assert not DeliveryAttempt.objects.exclude(endpoint__startswith=loopback[0]).exists()


@pytest.mark.parametrize("credentials", [{}, {"Authorization": "Bearer AbCdEf12.not-a-key"}], ids=["none", "unknown"])
def test_without_a_valid_key_every_operation_answers_a_documented_401(credentials, live_server, admin_user):
    _, key = account_services.api_key_issue(actor=None, user=admin_user)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/",
                                           headers={"Authorization": f"Bearer {key}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= MIN_OPERATIONS
    sent, failures = {}, []
    for operation in operations:
        failure = _exercise(operation, operation.as_strategy(), base_url=live_server.url, headers=credentials,
                            examples=2, sent=sent)
        if failure:
            failures.append(failure)
    assert not failures, "\n\n".join(failures)
    assert {label: set(counts) for label, counts in sent.items()} == {op.label: {401} for op in operations}
