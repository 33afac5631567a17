"""Stage 1 through the facade, started by `shop up --stage 1`: /api/catalog/ is the catalog
service's, which holds the monolith's catalog; the monolith's pages and checkout read it over HTTP."""

import re
import time
import uuid
from decimal import Decimal

import pytest
import requests

from tests.conftest import GOOD_CARD, SHIPPING

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "admin")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_catalog_api_is_the_catalog_services_and_holds_the_monoliths_catalog(stage1_shop):
    products = requests.get(f"{stage1_shop.url}api/catalog/products/", params={"ordering": "name"}, timeout=10)

    assert products.status_code == 200, products.text
    assert products.headers["X-Served-By"] == "catalog"
    assert products.headers["X-Request-ID"]
    assert products.json()["count"] == 210
    # The same request id in the facade's and the catalog's log lines.
    request_id = products.headers["X-Request-ID"]
    assert _eventually_lines_of(stage1_shop, "facade", request_id)
    assert _eventually_lines_of(stage1_shop, "catalog", request_id)


def test_the_html_product_list_is_the_monoliths_and_shows_the_services_products(stage1_shop):
    api = requests.get(f"{stage1_shop.url}api/catalog/products/", params={"q": "amber"}, timeout=10).json()
    page = requests.get(
        f"{stage1_shop.url}products/", params={"q": "amber"}, headers={"Accept": BROWSER_ACCEPT}, timeout=10
    )

    assert page.status_code == 200
    assert page.headers["X-Served-By"] == "monolith"
    assert api["results"]
    for product in api["results"][:10]:
        assert f"/products/{product['sku']}/" in page.text


def test_the_catalog_docs_render_through_the_facade_with_their_static_files(stage1_shop):
    docs = requests.get(f"{stage1_shop.url}api/catalog/docs/", headers={"Accept": BROWSER_ACCEPT}, timeout=10)

    assert docs.status_code == 200
    assert docs.headers["X-Served-By"] == "catalog"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    # /static/ is the monolith's: the same drf-spectacular-sidecar, installed once in the venv.
    for asset in assets:
        response = requests.get(stage1_shop.url + asset.lstrip("/"), timeout=10)
        assert response.status_code == 200, asset


def test_a_purchase_commits_its_stock_reservation_in_the_catalog_service(stage1_shop):
    url = stage1_shop.url
    customer = requests.Session()
    sku = _in_stock_sku(url)
    stock_before = _product(url, sku)["stock"]

    order = _order(customer, url, sku)
    payment = _pay(customer, url, order["number"])

    assert payment.status_code == 201, payment.text
    assert customer.get(f"{url}api/orders/{order['number']}/", timeout=10).json()["status"] == "paid"
    assert _product(url, sku)["stock"] == stock_before - 1
    # The relay commits the reservation after the shopper has the answer: within its idle time.
    deadline = time.monotonic() + 10
    while True:
        reservation = requests.get(
            f"{url}api/catalog/stock-reservations/order-{order['number']}-1/", auth=ADMIN, timeout=10
        )
        assert reservation.status_code == 200, reservation.text
        assert reservation.headers["X-Served-By"] == "catalog"
        if reservation.json()["status"] == "committed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reservation.json()["status"] == "committed"
    assert _product(url, sku)["stock"] == stock_before - 1


def test_a_price_changed_through_the_catalog_api_is_charged_at_once(stage1_shop):
    url = stage1_shop.url
    sku = _in_stock_sku(url)
    # Read through the monolith first, so that its short read cache holds the old price.
    requests.get(f"{url}products/{sku}/", timeout=10)
    new_price = Decimal(_product(url, sku)["price"]) + Decimal("1.11")

    patched = requests.patch(
        f"{url}api/catalog/products/{sku}/", json={"price": str(new_price)}, auth=ADMIN, timeout=10
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["X-Served-By"] == "catalog"

    customer = requests.Session()
    order = _order(customer, url, sku)
    assert Decimal(order["total"]) == new_price
    assert Decimal(order["lines"][0]["unit_price"]) == new_price
    assert _pay(customer, url, order["number"]).status_code == 201


def test_with_the_catalog_service_stopped_only_the_catalog_is_unavailable(separate_stage1_shop):
    front, catalog = separate_stage1_shop
    assert requests.get(f"{front.url}api/catalog/products/", timeout=10).headers["X-Served-By"] == "catalog"
    catalog.stop()

    api = requests.get(f"{front.url}api/catalog/products/", headers={"Accept": "application/json"}, timeout=5)
    assert api.elapsed.total_seconds() < 2
    assert api.status_code == 502
    assert api.headers["X-Served-By"] == "facade"
    assert api.json()["code"] == "upstream_unavailable"

    page = requests.get(f"{front.url}products/", headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    assert page.elapsed.total_seconds() < 3
    assert page.status_code == 503
    assert page.headers["X-Served-By"] == "monolith"
    assert page.headers["Content-Type"].startswith("text/html")

    orders = requests.get(f"{front.url}orders/", headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    assert orders.status_code == 200
    assert orders.headers["X-Served-By"] == "monolith"

    # Started again, the service keeps its catalog (no second move) and the shop recovers.
    catalog.start()
    catalog.wait_until_ready()
    # The stage is recorded: only the first start moved the catalog.
    assert catalog.output().count("Moving the shop from stage 0 to stage 1") == 1
    products = requests.get(f"{front.url}api/catalog/products/", timeout=10)
    assert products.status_code == 200
    assert products.json()["count"] == 210


def _eventually_lines_of(shop, name, text, timeout=5):
    """The lines of process `name` containing `text`, waiting for them: nginx and gunicorn write
    their access lines after the response has gone out, and honcho passes them on after that."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in shop.lines_of(name) if text in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def _product(url, sku):
    response = requests.get(f"{url}api/catalog/products/{sku}/", auth=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _in_stock_sku(url):
    # Plenty of stock, so that the tests' orders never run a product out.
    products = requests.get(
        f"{url}api/catalog/products/", params={"in_stock": "true", "ordering": "-price"}, timeout=10
    )
    candidates = [product for product in products.json()["results"] if product["stock"] >= 10]
    assert candidates, products.text
    return candidates[uuid.uuid4().int % len(candidates)]["sku"]


def _order(customer, url, sku):
    order = customer.post(
        f"{url}api/orders/",
        json={"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1}]},
        timeout=10,
    )
    assert order.status_code == 201, order.text
    assert order.headers["X-Served-By"] == "monolith"
    return order.json()


def _pay(customer, url, number):
    return customer.post(
        f"{url}api/orders/{number}/pay/",
        json={"card": GOOD_CARD},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
