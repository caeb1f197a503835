"""The OpenAPI schema generates cleanly and the Swagger UI is served from our own static files."""

import yaml
from django.core.management import call_command


def test_schema_generates_without_warnings(tmp_path, capsys):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    for path in ["/api/v1/platforms/", "/api/v1/cases/", "/api/v1/items/", "/api/v1/items/{id}/approve/",
                 "/api/v1/referrals/", "/api/v1/referrals/{id}/", "/api/v1/referrals/{id}/status/"]:
        assert path in paths
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_swagger_ui_is_served_locally(browser, analyst):
    client = browser(analyst)  # signed in: the UI and the schema are not public (tests/api/test_schema_access.py)
    res = client.get("/api/docs/")
    assert res.status_code == 200
    html = res.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/api/schema/").status_code == 200
