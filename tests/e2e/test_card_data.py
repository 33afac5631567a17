"""No card number or CVC is kept anywhere: checkouts at stage 2, then every log line and every database searched.

The whole shop runs under `shop up --stage 2` (facade, monolith, catalog and payments services, relay) on
databases and ports of its own. Customers pay with good and declined cards, through the API and through the
HTML checkout; then the shop's output (every process's log, the facade's access log included: `shop up`
prints them all), every file in its run folder and a `pg_dump` of each of its three databases are searched
for the card numbers and CVCs used. The contract: only the last four digits of a card are ever stored.

The search is first shown to find a planted card in a log file and in a database, so that the test can fail.
"""

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from shopctl.background import BackgroundShop
from tests.conftest import DECLINED_CARD, GOOD_CARD, NO_FUNDS_CARD, SHIPPING
from tests.e2e.conftest import _stage1_env, _start

pytestmark = pytest.mark.e2e

DATABASE = "shop_e2e_cards"
# CVCs no other number of the run is likely to equal (not a year, a port or a seeded stock count).
CARDS = [
    {**GOOD_CARD, "cvc": "8641"},
    {**DECLINED_CARD, "cvc": "9173"},
    {**NO_FUNDS_CARD, "cvc": "7352"},
]
PLANTED = {**GOOD_CARD, "number": "4111111111111111", "cvc": "6283"}


@pytest.fixture(scope="module")
def stage2_shop(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("shop_cards")
    env = {**_stage1_env(DATABASE), "SHOP_RUN_DIR": str(run_dir)}
    running = BackgroundShop(stage=2, env=env, log_path=run_dir / "shop.log")
    try:
        _start(running)
        yield running, run_dir, env
    finally:
        running.stop()


def test_no_card_number_or_cvc_in_any_log_or_database(stage2_shop):
    shop, run_dir, env = stage2_shop
    databases = [env["DATABASE_URL"], env["CATALOG_DATABASE_URL"], env["PAYMENTS_DATABASE_URL"]]

    # The search finds a card where one is: in a log file of the run and in a database.
    planted_log = run_dir / "planted.log"
    planted_card = {"number": PLANTED["number"], "cvc": PLANTED["cvc"]}
    planted_log.write_text(f"POST /api/payments/ {json.dumps({'card': planted_card})}\n")
    with _planted_row(env["PAYMENTS_DATABASE_URL"]):
        assert _found([PLANTED], run_dir, databases) == {
            "log": [PLANTED["number"], PLANTED["cvc"]],
            "database": [PLANTED["number"], PLANTED["cvc"]],
        }
    planted_log.unlink()

    statuses = [_pay_through_the_api(shop.url, card) for card in CARDS]
    statuses.append(_pay_through_the_checkout_page(shop.url, CARDS[0]))
    assert statuses == [201, 402, 402, 302]
    _wait_for_the_relay_to_commit(shop.url)

    assert _found(CARDS, run_dir, databases) == {"log": [], "database": []}


def _found(cards, run_dir, databases):
    """Which card numbers and CVCs appear in the run's logs and files, and in the databases' dumps."""
    logs = "\n".join(path.read_text(errors="replace") for path in sorted(Path(run_dir).rglob("*")) if path.is_file())
    dumps = "\n".join(_dump(url) for url in databases)
    return {"log": _matches(cards, logs, in_logs=True), "database": _matches(cards, dumps, in_logs=False)}


def _matches(cards, text, *, in_logs):
    found = []
    for card in cards:
        grouped = " ".join(card["number"][i : i + 4] for i in range(0, len(card["number"]), 4))
        if card["number"] in text or grouped in text:
            found.append(card["number"])
        # A CVC is four digits, which a log's sizes and times may hold by chance: in a log it counts
        # beside its name (as JSON, a form or a repr would write it); in a dump, as a value of its own
        # (a column of its own would be a field between tabs).
        cvc = re.escape(card["cvc"])
        pattern = rf"cvc\W{{0,6}}{cvc}(?![0-9])" if in_logs else rf"(?<![0-9A-Za-z.:-]){cvc}(?![0-9A-Za-z.:-])"
        if re.search(pattern, text, re.IGNORECASE):
            found.append(card["cvc"])
    return found


def _dump(database_url):
    result = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", database_url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


class _planted_row:
    """A row with a whole card in a table of its own, dropped again afterwards."""

    def __init__(self, database_url):
        self.database_url = database_url

    def _run(self, statement, *params):
        connection = psycopg2.connect(self.database_url)
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(statement, params)
        finally:
            connection.close()

    def __enter__(self):
        self._run("CREATE TABLE planted_card (number text, cvc text)")
        self._run("INSERT INTO planted_card VALUES (%s, %s)", PLANTED["number"], PLANTED["cvc"])

    def __exit__(self, *exc_info):
        self._run("DROP TABLE planted_card")


def _customer_order(customer, url):
    products = customer.get(f"{url}api/catalog/products/", params={"in_stock": "true"}, timeout=10)
    assert products.status_code == 200, products.text
    return products.json()["results"][0]["sku"]


def _pay_through_the_api(url, card):
    customer = requests.Session()
    sku = _customer_order(customer, url)
    order = customer.post(
        f"{url}api/orders/",
        json={"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1}]},
        timeout=10,
    )
    assert order.status_code == 201, order.text
    payment = customer.post(
        f"{url}api/orders/{order.json()['number']}/pay/",
        json={"card": card},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    return payment.status_code


def _pay_through_the_checkout_page(url, card):
    browser = requests.Session()
    sku = _customer_order(browser, url)
    origin = {"Origin": url.rstrip("/")}
    page = browser.get(f"{url}products/{sku}/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    added = browser.post(
        f"{url}cart/add/",
        data={"csrfmiddlewaretoken": token, "sku": sku, "quantity": 1},
        headers=origin,
        allow_redirects=False,
        timeout=10,
    )
    assert added.status_code == 302, added.text[:500]
    form = browser.get(f"{url}checkout/", timeout=10).text
    fields = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1],
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form)[1],
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "line2": "",
        "city": "London",
        "postal_code": "N1 7AA",
        "country": "GB",
        # As a shopper types it, in groups of four: searched for in both forms.
        "card_number": " ".join(card["number"][i : i + 4] for i in range(0, 16, 4)),
        "exp_month": str(card["exp_month"]),
        "exp_year": str(card["exp_year"]),
        "cvc": card["cvc"],
    }
    response = browser.post(f"{url}checkout/", data=fields, headers=origin, allow_redirects=False, timeout=30)
    return response.status_code


def _wait_for_the_relay_to_commit(url):
    """Let the relay's next round run (it commits paid orders' stock), so that what it logs is searched too."""
    time.sleep(3)
    assert requests.get(f"{url}readyz", timeout=10).status_code == 200
