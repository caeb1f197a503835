"""The schema describes every answer: each operation lists the error statuses it can give with the API's one error
body (the `Error` component), and the fields that can be null are declared nullable. The answers that once broke
the schema (found by tests/api/test_schemathesis.py) are checked here against it, one by one."""

import copy
from datetime import date

import jsonschema
import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from platforms import services as platform_services
from referral.actions import approval
from tests.conftest import ORDER

METHODS = ("get", "post", "put", "patch", "delete")
LISTS_AND_METHODS = (serializers.ListSerializer, serializers.ManyRelatedField, serializers.SerializerMethodField)


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable: true` becomes "or null". Strict: an object may hold
    only the properties it describes (an answer's key missing from the schema fails too)."""
    if isinstance(node, list):
        return [_json_schema(child) for child in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def assert_conforms(schema, method: str, path: str, response) -> None:
    """The answer's status is documented for the operation and its JSON body matches the documented schema."""
    documented = schema["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))
    body_schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    root = {**_json_schema(copy.deepcopy(body_schema)), "components": _json_schema(schema["components"])}
    jsonschema.validate(response.json(), root)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _is_error(response) -> bool:
    return response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_error_body_is_a_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "errors"}
    assert error["properties"]["detail"]["type"] == "string" and error["properties"]["errors"]["type"] == "object"


def test_every_operation_documents_its_error_answers(schema):
    operations = list(_operations(schema))
    assert len(operations) >= 40
    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"401", "403", "429"}
        if "requestBody" in operation:
            expected |= {"400", "415"}
        if "{" in path:
            expected.add("404")
        if method != "get":
            expected.add("503")
        if method == "post":  # the Idempotency-Key: malformed, its request still running, another body
            expected |= {"400", "409", "413", "422"}
            assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
            expected.add("413")
        assert expected <= set(responses), (method, path, sorted(expected - set(responses)))
        for code in expected:
            assert _is_error(responses[code]), (method, path, code)
            assert responses[code]["description"], (method, path, code)
        assert "Retry-After" in responses["429"]["headers"], (method, path)
        if method == "get":  # only where they can happen: a read changes nothing and takes no body
            allowed = {"409"} if path == "/api/v1/imports/{id}/report/" else set()
            assert not ({"409", "413", "415", "422", "503"} - allowed) & set(responses), (method, path)
        if method == "post":
            assert "Retry-After" in responses["409"]["headers"], (method, path)


def test_error_statuses_the_rules_cannot_see_are_documented(schema):
    paths = schema["paths"]
    assert _is_error(paths["/api/v1/imports/"]["post"]["responses"]["404"])  # a case id in the body
    assert _is_error(paths["/api/v1/imports/{id}/report/"]["get"]["responses"]["409"])  # not finished yet
    tco = paths["/api/v1/reports/tco/"]["get"]
    assert {p["name"] for p in tco["parameters"] if p["required"]} == {"from", "to"}
    assert "400" in tco["responses"]
    pre_information = paths["/api/v1/platforms/{id}/pre-information/"]["post"]["responses"]
    assert "202" in pre_information and "200" not in pre_information


def _model_field_nullable(model, source: str) -> bool:
    """Whether following `source` (dotted) from `model` can meet a null: a nullable field on the way."""
    for name in source.split("."):
        try:
            field = model._meta.get_field(name)
        except Exception:  # a property or method: not a model field
            return False
        if getattr(field, "null", False):
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def _our_model_serializers():
    found, todo = [], [serializers.ModelSerializer]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in {config.name for config in apps.get_app_configs()}:
            found.append(cls)
    return found


def test_every_nullable_model_field_is_nullable_in_the_schema(schema):
    """An output field whose model field (or a relation on its way) can be null is declared nullable."""
    components = schema["components"]["schemas"]
    checked, missing = 0, []
    for serializer_class in _our_model_serializers():
        name = serializer_class.__name__
        if name not in components:
            continue
        properties = components[name]["properties"]
        for field_name, field in serializer_class().fields.items():
            if field.write_only or field.source == "*" or isinstance(field, LISTS_AND_METHODS):
                continue  # a list is never null; a method's type hint says it (-> X | None)
            if _model_field_nullable(serializer_class.Meta.model, field.source):
                checked += 1
                if not properties[field_name].get("nullable"):
                    missing.append(f"{name}.{field_name}")
    assert checked >= 10 and not missing, missing


def test_an_item_of_no_known_platform_answers_platform_null(schema, api, analyst, case):
    client = api(analyst)
    res = client.post("/api/v1/items/", {"case": case.pk, "url": "https://nowhere.example/p/1", "kind": "post"},
                      format="json")
    assert res.status_code == 201 and res.json()["platform"] is None
    assert_conforms(schema, "post", "/api/v1/items/", res)
    res = client.get(f"/api/v1/items/{res.json()['id']}/")
    assert_conforms(schema, "get", "/api/v1/items/{id}/", res)
    assert_conforms(schema, "get", "/api/v1/items/", client.get("/api/v1/items/"))


def test_a_contact_point_not_rotating_answers_rotating_until_null(schema, api, analyst, platform_a):
    res = api(analyst).get("/api/v1/platforms/")
    assert res.json()["results"][0]["contact_points"][0]["rotating_until"] is None
    assert_conforms(schema, "get", "/api/v1/platforms/", res)


def test_referrals_and_orders_answer_as_described(schema, api, analyst, supervisor, case, approved_referral):
    """A referral's `order` (null, or the Annex I content with its own nulls), `clock` and `liveness`."""
    from cases.actions import items as item_actions

    item = item_actions.item_log(actor=analyst, case=case, url="https://tube.example/watch?v=order", kind="post",
                                 categories=["incitement"])
    item_actions.item_propose(actor=analyst, item_id=item.pk)
    order = approval.item_approve(actor=supervisor, item_id=item.pk, instrument="removal_order",
                                  order=ORDER).referrals.get()
    client = api(supervisor)
    listed = client.get("/api/v1/referrals/")
    assert {r["order"] is None for r in listed.json()["results"]} == {True, False}
    assert_conforms(schema, "get", "/api/v1/referrals/", listed)
    one = client.get(f"/api/v1/referrals/{order.pk}/")
    assert one.json()["order"]["territorial_scope"] is None and one.json()["liveness"]["checked_at"] is None
    assert_conforms(schema, "get", "/api/v1/referrals/{id}/", one)
    described = schema["components"]["schemas"]["ReferralOut"]["properties"]
    assert {"order", "clock", "liveness"} <= set(described)
    assert all("$ref" in str(described[name]) for name in ("order", "clock", "liveness"))


def test_pre_information_answers_202_or_the_error_body(schema, api, supervisor, platform_a):
    client = api(supervisor)
    res = client.post(f"/api/v1/platforms/{platform_a.pk}/pre-information/")
    assert res.status_code == 202 and res.json() == {"deliveries": 1}
    assert_conforms(schema, "post", "/api/v1/platforms/{id}/pre-information/", res)
    silent = platform_services.platform_create(actor=None, slug="silent", name="Silent", domains=["silent.example"],
                                               contact_points=[], legal=None)
    res = client.post(f"/api/v1/platforms/{silent.pk}/pre-information/")
    assert res.status_code == 409 and set(res.json()) == {"detail", "errors"}
    assert_conforms(schema, "post", "/api/v1/platforms/{id}/pre-information/", res)


def test_the_tco_report_without_its_period_is_a_documented_400(schema, api, supervisor):
    res = api(supervisor).get("/api/v1/reports/tco/")
    assert res.status_code == 400
    assert_conforms(schema, "get", "/api/v1/reports/tco/", res)
    today = date.today().isoformat()
    assert api(supervisor).get("/api/v1/reports/tco/", {"from": today, "to": today}).status_code == 200


FREE_FORM = {"Error.errors", "BulkStatusRowOut.errors",  # per field, its messages: field names are the input's
             "get /api/v1/reports/referrals/", "get /api/v1/reports/tco/"}  # reports: their own guides' tables


def test_answers_are_described_field_by_field(schema):
    """No answer is an undescribed object (whose nulls the schema could not declare), but the few named here."""
    components, loose = schema["components"]["schemas"], []

    def walk(node, where):
        if isinstance(node, list):
            for child in node:
                walk(child, where)
        elif isinstance(node, dict):
            if node == {} or (node.get("type") == "object" and "properties" not in node):
                loose.append(where)
            for child in node.values():
                walk(child, where)

    for name, component in components.items():
        for field, child in component.get("properties", {}).items():
            walk(child, f"{name}.{field}")
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("2") and "application/json" in response.get("content", {}):
                walk(response["content"]["application/json"]["schema"], f"{method} {path}")
    assert set(loose) <= FREE_FORM, sorted(set(loose) - FREE_FORM)


def test_bulk_answers_conform(schema, api, supervisor, liaison_a, proposed_item, approved_referral):
    client = api(supervisor)
    res = client.post("/api/v1/items/approve/", {"items": [proposed_item.pk, 999999]}, format="json")
    assert {"item": 999999, "detail": "Item 999999 does not exist.", "status_code": 404} in res.json()["errors"]
    assert_conforms(schema, "post", "/api/v1/items/approve/", res)
    res = client.post("/api/v1/referrals/withdraw/", {"referrals": [999999], "reason": "Sent twice."}, format="json")
    assert_conforms(schema, "post", "/api/v1/referrals/withdraw/", res)
    res = api(liaison_a).post("/api/v1/referrals/status/", [
        {"id": approved_referral.pk, "status": "acknowledged"}, "not a row"], format="json")
    assert [row["id"] for row in res.json()["results"]] == [approved_referral.pk, None]
    assert_conforms(schema, "post", "/api/v1/referrals/status/", res)


def test_a_platform_not_yet_informed_answers_its_legal_directory_with_nulls(schema, api, admin_user, db):
    from tests.conftest import make_platform

    make_platform("fresh", ["fresh.example"], legal={"main_establishment": "FR", "languages": ["fr"]})
    res = api(admin_user).get("/api/v1/platforms/")
    legal = res.json()["results"][0]["legal"]
    assert legal["pre_information_sent_at"] is None and legal["exposed_since"] is None
    assert_conforms(schema, "get", "/api/v1/platforms/", res)
