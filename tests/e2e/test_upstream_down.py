"""With the monolith down the facade answers at once, in the client's format; then the shop recovers."""

import pytest
import requests

pytestmark = pytest.mark.e2e

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_facade_answers_for_a_stopped_monolith_and_the_shop_recovers(separate_shop):
    facade, monolith = separate_shop
    monolith.stop()

    api = requests.get(f"{facade.url}api/catalog/products/", headers={"Accept": "application/json"}, timeout=5)
    assert api.elapsed.total_seconds() < 2
    assert api.status_code in (502, 503, 504)
    assert api.headers["Content-Type"].startswith("application/json")
    assert api.json()["code"] == "upstream_unavailable"
    assert api.json()["detail"]
    assert api.headers["X-Served-By"] == "facade"
    assert api.headers["X-Request-ID"]

    # An API path gets JSON even from a client that accepts anything (curl, say).
    anything = requests.get(f"{facade.url}api/orders/", headers={"Accept": "*/*"}, timeout=5)
    assert anything.status_code in (502, 503, 504)
    assert anything.json()["code"] == "upstream_unavailable"

    page = requests.get(facade.url, headers={"Accept": BROWSER_ACCEPT}, timeout=5)
    assert page.elapsed.total_seconds() < 2
    assert page.status_code in (502, 503, 504)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "try again" in page.text
    assert page.headers["X-Served-By"] == "facade"
    assert page.headers["X-Request-ID"] in page.text

    monolith.start()
    monolith.wait_until_ready()
    home = requests.get(facade.url, headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    assert home.status_code == 200
    assert home.headers["X-Served-By"] == "monolith"
