"""The OpenAPI document of /api/payments/ and its Swagger UI: valid, complete, and served without a CDN."""

import io
import json
import re

import yaml
from django.core.management import call_command

PAYMENTS = {
    "/api/payments/",
    "/api/payments/{payment_id}/",
    "/api/payments/{payment_id}/refunds/",
}
SCHEMA = "/api/payments/schema/"


def test_the_schema_is_valid_and_generates_without_warnings():
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())

    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")


def test_the_served_document_describes_exactly_the_payments_prefix(client, db):
    response = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert set(document["paths"]) == PAYMENTS
    # The title of the monolith's own /api/payments/schema/: one document, whichever process serves it.
    assert document["info"]["title"] == "strangler-shop payments API"


def test_the_document_is_yaml_by_default(client, db):
    response = client.get(SCHEMA)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert set(yaml.safe_load(response.content)["paths"]) == PAYMENTS


def test_every_operation_accepts_basic_the_session_or_a_service_token(client, db):
    document = json.loads(client.get(SCHEMA, HTTP_ACCEPT="application/json").content)

    schemes = document["components"]["securitySchemes"]
    assert schemes["serviceToken"]["type"] == "http" and schemes["serviceToken"]["scheme"] == "bearer"
    assert schemes["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "payments_sessionid"}
    operations = {
        (method, path): operation for path, item in document["paths"].items() for method, operation in item.items()
    }
    assert len(operations) == 4
    for (method, path), operation in operations.items():
        # Nothing is public: every operation needs staff or a service.
        assert operation["security"] == [{"basicAuth": []}, {"cookieAuth": []}, {"serviceToken": []}], (method, path)


def test_swagger_ui_is_served_from_our_own_static_files(client, db):
    page = client.get("/api/payments/docs/")

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert re.findall(r"https?://", body) == []  # nothing from a CDN: the docs work offline
    # The init script is a file of its own (SpectacularSwaggerSplitView), not inline: the facade's
    # Content-Security-Policy lets scripts come only from files.
    [script] = re.findall(r'<script src="([^"]+\?script=)"', body)
    assert SCHEMA in client.get(script).content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', body)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])


def test_the_document_promises_what_the_service_does(client, db):
    """Idempotency-Key required on a charge, optional on a refund; 409 (a key in flight) and 422 documented."""
    document = json.loads(client.get(SCHEMA, HTTP_ACCEPT="application/json").content)
    create = document["paths"]["/api/payments/"]["post"]
    refund = document["paths"]["/api/payments/{payment_id}/refunds/"]["post"]

    assert [(p["name"], p["in"], p["required"]) for p in create["parameters"]] == [("Idempotency-Key", "header", True)]
    assert [(p["name"], p["in"], p.get("required", False)) for p in refund["parameters"] if p["in"] == "header"] == [
        ("Idempotency-Key", "header", False)
    ]
    for operation in (create, refund):
        assert "still in progress" in operation["responses"]["409"]["description"]
        assert "422" in operation["responses"]
