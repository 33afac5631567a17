"""The OpenAPI documents and their Swagger UI pages: valid, one per prefix, and served without a CDN."""

import io
import json
import re

import pytest
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
ORDERS = {
    "/api/orders/",
    "/api/orders/{number}/",
    "/api/orders/{number}/pay/",
    "/api/orders/{number}/cancel/",
}
PAYMENTS = {
    "/api/payments/",
    "/api/payments/{payment_id}/",
    "/api/payments/{payment_id}/refunds/",
}
DOCUMENTS = {
    "/api/schema/": CATALOG | ORDERS | PAYMENTS,
    "/api/catalog/schema/": CATALOG,
    "/api/payments/schema/": PAYMENTS,
}


def test_the_schema_is_valid_and_generates_without_warnings():
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())

    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")


@pytest.mark.parametrize(("url", "paths"), DOCUMENTS.items())
def test_each_document_describes_exactly_its_prefix(client, db, url, paths):
    response = client.get(url, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == paths
    assert document["info"]["title"]


@pytest.mark.parametrize("url", DOCUMENTS)
def test_a_document_is_yaml_by_default(client, db, url):
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert set(yaml.safe_load(response.content)["paths"]) == DOCUMENTS[url]


def test_the_prefix_documents_say_what_they_cover(client, db):
    titles = {
        url: json.loads(client.get(url, HTTP_ACCEPT="application/json").content)["info"]["title"] for url in DOCUMENTS
    }

    assert len(set(titles.values())) == 3
    assert "catalog" in titles["/api/catalog/schema/"]
    assert "payments" in titles["/api/payments/schema/"]


@pytest.mark.parametrize(
    ("docs", "schema"),
    [
        ("/api/docs/", "/api/schema/"),
        ("/api/catalog/docs/", "/api/catalog/schema/"),
        ("/api/payments/docs/", "/api/payments/schema/"),
    ],
)
def test_swagger_ui_is_served_from_our_own_static_files(client, db, docs, schema):
    page = client.get(docs)

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert re.findall(r"https?://", body) == []  # nothing from a CDN: the docs work offline
    # The init script is a file of its own (SpectacularSwaggerSplitView), not inline: the facade's
    # Content-Security-Policy lets scripts come only from files.
    [script] = re.findall(r'<script src="([^"]+\?script=)"', body)
    assert schema in client.get(script).content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', body)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])
