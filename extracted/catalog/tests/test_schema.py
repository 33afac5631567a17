"""The OpenAPI document of /api/catalog/ and its Swagger UI: valid, complete, and served without a CDN."""

import io
import json
import re

import yaml
from django.core.management import call_command

CATALOG = {
    "/api/catalog/categories/",
    "/api/catalog/categories/{slug}/",
    "/api/catalog/products/",
    "/api/catalog/products/{sku}/",
    "/api/catalog/stock-reservations/",
    "/api/catalog/stock-reservations/{reservation_id}/",
    "/api/catalog/stock-reservations/{reservation_id}/commit/",
    "/api/catalog/stock-reservations/{reservation_id}/release/",
    "/api/catalog/stock-reservation-commits/",
}
SCHEMA = "/api/catalog/schema/"


def test_the_schema_is_valid_and_generates_without_warnings():
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())

    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")


def test_the_served_document_describes_exactly_the_catalog_prefix(client, db):
    response = client.get(SCHEMA, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert set(document["paths"]) == CATALOG
    # The title of the monolith's own /api/catalog/schema/: one document, whichever process serves it.
    assert document["info"]["title"] == "strangler-shop catalog API"


def test_the_document_is_yaml_by_default(client, db):
    response = client.get(SCHEMA)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert set(yaml.safe_load(response.content)["paths"]) == CATALOG


def test_every_operation_accepts_basic_the_session_or_a_service_token(client, db):
    document = json.loads(client.get(SCHEMA, HTTP_ACCEPT="application/json").content)

    schemes = document["components"]["securitySchemes"]
    assert schemes["serviceToken"]["type"] == "http" and schemes["serviceToken"]["scheme"] == "bearer"
    assert schemes["basicAuth"] == {"type": "http", "scheme": "basic"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "in": "cookie", "name": "catalog_sessionid"}
    operations = {
        (method, path): operation for path, item in document["paths"].items() for method, operation in item.items()
    }
    assert len(operations) == 17  # with GET and PUT on the stock reservations (the data move)
    credentials = [{"basicAuth": []}, {"cookieAuth": []}, {"serviceToken": []}]
    for (method, path), operation in operations.items():
        # Anyone may read categories and products ({} = no credentials); the rest needs staff or a service.
        public = method == "get" and not path.startswith("/api/catalog/stock-reservation")
        assert operation["security"] == credentials + ([{}] if public else []), (method, path)


def test_swagger_ui_is_served_from_our_own_static_files(client, db):
    page = client.get("/api/catalog/docs/")

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
