"""No overselling at stage 1, through the facade: shoppers racing for the last units of one product.

The stock lives in the catalog service; each checkout is the monolith reserving it over HTTP. The
shop is `shop up --stage 1` on free ports (tests/e2e/conftest.py's stage1_shop).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import SHIPPING

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "admin")
LAST_UNITS = 5
SHOPPERS = 20


def _stock(url, sku):
    response = requests.get(f"{url}api/catalog/products/{sku}/", auth=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def _some_sku(url):
    products = requests.get(f"{url}api/catalog/products/", params={"ordering": "name", "page": 3}, timeout=10)
    assert products.status_code == 200, products.text
    return products.json()["results"][0]["sku"]


def _warm_up(url, sku):
    """As many requests at once as there will be shoppers, to the monolith and to the catalog service.

    A shop that has just started opens a database connection in each gunicorn thread on its first
    request; on a small, busy machine those first requests can outlast the catalog client's 1.5 s
    read timeout (a 503 by design). A shop that has been running has them open: so warm it first.
    """

    def touch(index):
        session = requests.Session()
        path = "api/orders/" if index % 2 else f"api/catalog/products/{sku}/"
        return session.get(f"{url}{path}", timeout=30).status_code

    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        assert set(pool.map(touch, range(2 * SHOPPERS))) == {200}


def test_shoppers_racing_for_the_last_units_buy_exactly_those_units(stage1_shop):
    url = stage1_shop.url
    sku = _some_sku(url)
    set_stock = requests.patch(f"{url}api/catalog/products/{sku}/", json={"stock": LAST_UNITS}, auth=ADMIN, timeout=10)
    assert set_stock.status_code == 200, set_stock.text
    assert set_stock.headers["X-Served-By"] == "catalog"
    _warm_up(url, sku)

    start = threading.Barrier(SHOPPERS)
    racing = threading.Event()
    racing.set()
    seen_stock = []

    def shop():
        session = requests.Session()  # each shopper has a browser of their own
        start.wait(timeout=30)
        return session.post(
            f"{url}api/orders/",
            json={"email": "racer@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1}]},
            timeout=30,
        )

    def watch():
        while racing.is_set():
            seen_stock.append(_stock(url, sku))

    with ThreadPoolExecutor(max_workers=SHOPPERS + 1) as pool:
        watcher = pool.submit(watch)
        answers = list(pool.map(lambda _: shop(), range(SHOPPERS)))
        racing.clear()
        watcher.result()

    statuses = sorted(answer.status_code for answer in answers)
    assert not [answer.text for answer in answers if answer.status_code >= 500]
    assert statuses == [201] * LAST_UNITS + [409] * (SHOPPERS - LAST_UNITS)
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["skus"] == [sku] and answer.json()["code"] == "insufficient_stock", answer.text
    assert (
        sum(line["quantity"] for answer in answers if answer.status_code == 201 for line in answer.json()["lines"])
        == LAST_UNITS
    )
    assert seen_stock and min(seen_stock) >= 0
    assert _stock(url, sku) == 0
