"""The orders API, /api/orders/: place, read, pay and cancel an order, and bad input that must never be a 500."""

import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from monolith.catalog.models import Product, StockReservation
from monolith.orders.models import Order, OrderPayment
from monolith.payments.models import Payment
from tests.conftest import DECLINED_CARD, GOOD_CARD, NO_FUNDS_CARD, SHIPPING

ORDER = {"email": "ada@example.com", "shipping": SHIPPING}


def pay(client, number, card, key):
    return client.post(f"/api/orders/{number}/pay/", {"card": card}, format="json", headers={"Idempotency-Key": key})


def stock(sku):
    return Product.objects.get(sku=sku).stock


def assert_json_error(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# Placing an order


def test_placing_an_order_keeps_names_and_prices_as_they_were_when_ordered(api, product, make_product):
    make_product("TEA-0001", price="4.00", stock=10, name="Green Tea")

    response = api.post(
        "/api/orders/",
        {
            **ORDER,
            "lines": [
                {"sku": "COF-0001", "quantity": 2},
                {"sku": "TEA-0001", "quantity": 3},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert re.fullmatch(r"[A-Z0-9]{10}", order["number"])
    assert order["status"] == "pending_payment"
    assert order["total"] == "37.00"
    assert order["currency"] == "EUR"
    assert order["shipping"]["country"] == "GB"
    assert order["payments"] == []
    ordered = [{k: line[k] for k in ("sku", "name", "unit_price", "quantity", "line_total")} for line in order["lines"]]
    assert ordered == [
        {
            "sku": "COF-0001",
            "name": "Harbour Espresso Beans",
            "unit_price": "12.50",
            "quantity": 2,
            "line_total": "25.00",
        },
        {"sku": "TEA-0001", "name": "Green Tea", "unit_price": "4.00", "quantity": 3, "line_total": "12.00"},
    ]

    Product.objects.filter(sku="COF-0001").update(price=Decimal("99.00"), name="Renamed Beans")
    again = api.get(f"/api/orders/{order['number']}/").json()
    assert again["total"] == "37.00"
    assert again["lines"][0]["name"] == "Harbour Espresso Beans"
    assert again["lines"][0]["unit_price"] == "12.50"


def test_placing_an_order_reserves_its_stock(api, product, make_product):
    make_product("TEA-0001", stock=10)

    api.post(
        "/api/orders/",
        {**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2}, {"sku": "TEA-0001", "quantity": 3}]},
        format="json",
    )

    assert stock("COF-0001") == 3
    assert stock("TEA-0001") == 7


def test_lines_for_the_same_sku_are_added_up(api, product):
    response = api.post(
        "/api/orders/",
        {
            **ORDER,
            "lines": [
                {"sku": "COF-0001", "quantity": 1},
                {"sku": "COF-0001", "quantity": 2},
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert [(line["sku"], line["quantity"]) for line in response.json()["lines"]] == [("COF-0001", 3)]
    assert response.json()["total"] == "37.50"
    assert stock("COF-0001") == 2


def test_a_short_line_is_409_naming_the_short_skus_and_nothing_is_reserved(api, product, make_product):
    make_product("TEA-0001", stock=1)
    make_product("TEA-0002", stock=0)

    response = api.post(
        "/api/orders/",
        {
            **ORDER,
            "lines": [
                {"sku": "COF-0001", "quantity": 2},
                {"sku": "TEA-0002", "quantity": 1},
                {"sku": "TEA-0001", "quantity": 2},
            ],
        },
        format="json",
    )

    body = assert_json_error(response, 409)
    assert body["code"] == "insufficient_stock"
    assert body["skus"] == ["TEA-0001", "TEA-0002"]
    assert "TEA-0001" in body["detail"] and "COF-0001" not in body["detail"]
    assert (stock("COF-0001"), stock("TEA-0001"), stock("TEA-0002")) == (5, 1, 0)
    assert not Order.objects.exists()
    assert not StockReservation.objects.exists()


@pytest.mark.parametrize("unknown", ["NOPE-0001", "OLD-0001"])
def test_an_unknown_or_inactive_sku_is_400_naming_lines(api, product, make_product, unknown):
    make_product("OLD-0001", is_active=False)

    response = api.post(
        "/api/orders/",
        {
            **ORDER,
            "lines": [
                {"sku": "COF-0001", "quantity": 1},
                {"sku": unknown, "quantity": 1},
            ],
        },
        format="json",
    )

    body = assert_json_error(response, 400)
    assert "lines" in body
    assert body["skus"] == [unknown]
    assert stock("COF-0001") == 5
    assert not Order.objects.exists()


def test_placing_again_with_the_same_idempotency_key_returns_the_first_order(api, product):
    body = {**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2}]}
    first = api.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-1"})

    again = api.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-1"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1
    assert stock("COF-0001") == 3


def test_someone_elses_order_idempotency_key_is_422(api, product):
    body = {**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2}]}
    api.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-1"})

    response = APIClient().post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-1"})

    assert "Idempotency-Key" in assert_json_error(response, 422)
    assert Order.objects.count() == 1
    assert stock("COF-0001") == 3


@pytest.mark.parametrize(
    "change",
    [
        {"lines": [{"sku": "COF-0001", "quantity": 3}]},
        {"email": "someone.else@example.com"},
        {"shipping": {**ORDER["shipping"], "city": "Paris"}},
    ],
    ids=["other-lines", "other-email", "other-shipping"],
)
def test_the_same_idempotency_key_with_another_order_is_422(api, product, change):
    body = {**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2}]}
    api.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-1"})

    response = api.post("/api/orders/", {**body, **change}, format="json", headers={"Idempotency-Key": "checkout-1"})

    assert assert_json_error(response, 422)["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert stock("COF-0001") == 3


def test_a_signed_in_customer_replays_with_basic_auth_across_sessions(product, customer):
    body = {**ORDER, "lines": [{"sku": "COF-0001", "quantity": 1}]}
    first, again = APIClient(), APIClient()  # two connections, no shared session: `curl -u demo:demo` twice
    for client in (first, again):
        client.credentials(HTTP_AUTHORIZATION="Basic ZGVtbzpkZW1v")

    one = first.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-2"})
    two = again.post("/api/orders/", body, format="json", headers={"Idempotency-Key": "checkout-2"})

    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["number"] == two.json()["number"]
    assert Order.objects.count() == 1


# Who may see an order


def test_an_anonymous_order_is_visible_to_its_session_and_staff_only(
    api, product, customer_api, staff_api, place_order
):
    number = place_order([{"sku": "COF-0001", "quantity": 1}])["number"]

    assert api.get(f"/api/orders/{number}/").status_code == 200
    assert staff_api.get(f"/api/orders/{number}/").json()["number"] == number
    for stranger in (APIClient(), customer_api):
        body = assert_json_error(stranger.get(f"/api/orders/{number}/"), 404)
        assert body["code"] == "not_found"


def test_a_customers_order_is_visible_to_that_customer_on_any_session(
    customer, customer_api, product, place_order, api, staff_api
):
    number = place_order([{"sku": "COF-0001", "quantity": 1}], client=customer_api)["number"]

    other_session = APIClient()
    other_session.login(username="demo", password="demo")
    assert other_session.get(f"/api/orders/{number}/").status_code == 200
    assert staff_api.get(f"/api/orders/{number}/").status_code == 200
    assert api.get(f"/api/orders/{number}/").status_code == 404
    other_user = APIClient()
    other_user.force_authenticate(type(customer).objects.create_user("eve", "eve@example.com", "eve"))
    assert other_user.get(f"/api/orders/{number}/").status_code == 404


def test_the_order_list_shows_only_your_own_orders(api, customer_api, product, place_order):
    mine = {place_order([{"sku": "COF-0001", "quantity": 1}])["number"] for _ in range(2)}
    customers = place_order([{"sku": "COF-0001", "quantity": 1}], client=customer_api)["number"]
    strangers = place_order([{"sku": "COF-0001", "quantity": 1}], client=APIClient())["number"]

    page = api.get("/api/orders/").json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 2
    assert {order["number"] for order in page["results"]} == mine
    assert [order["number"] for order in customer_api.get("/api/orders/").json()["results"]] == [customers]
    assert APIClient().get("/api/orders/").json()["count"] == 0
    assert strangers not in {order["number"] for order in page["results"]}


# Paying


def test_paying_with_a_good_card_marks_the_order_paid_and_keeps_the_stock_taken(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])

    response = pay(api, order["number"], GOOD_CARD, new_key())

    assert response.status_code == 201, response.content
    payment = response.json()
    assert payment["status"] == "succeeded"
    assert payment["failure_code"] == ""
    assert payment["amount"] == "25.00"
    assert payment["order_number"] == order["number"]
    assert payment["card_last4"] == "4242"
    assert "Idempotent-Replayed" not in response
    assert GOOD_CARD["number"].encode() not in response.content
    paid = api.get(f"/api/orders/{order['number']}/").json()
    assert paid["status"] == "paid"
    assert [(p["payment_id"], p["status"]) for p in paid["payments"]] == [(payment["id"], "succeeded")]
    assert stock("COF-0001") == 3
    assert StockReservation.objects.get().status == "committed"


@pytest.mark.parametrize(
    ("card", "failure_code"), [(DECLINED_CARD, "card_declined"), (NO_FUNDS_CARD, "insufficient_funds")]
)
def test_a_declined_card_is_402_and_releases_the_stock(api, product, place_order, new_key, card, failure_code):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    assert stock("COF-0001") == 3

    response = pay(api, order["number"], card, new_key())

    assert response.status_code == 402, response.content
    assert response.json()["status"] == "failed"
    assert response.json()["failure_code"] == failure_code
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "payment_failed"
    assert stock("COF-0001") == 5


def test_a_retry_after_a_decline_reserves_the_stock_again_and_sells_it(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    assert pay(api, order["number"], DECLINED_CARD, new_key()).status_code == 402
    assert stock("COF-0001") == 5

    response = pay(api, order["number"], GOOD_CARD, new_key())

    assert response.status_code == 201, response.content
    paid = api.get(f"/api/orders/{order['number']}/").json()
    assert paid["status"] == "paid"
    assert sorted(p["status"] for p in paid["payments"]) == ["failed", "succeeded"]
    assert stock("COF-0001") == 3
    assert sorted(StockReservation.objects.values_list("status", flat=True)) == ["committed", "released"]


def test_a_retry_after_a_decline_is_409_when_the_stock_is_gone_meanwhile(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    pay(api, order["number"], DECLINED_CARD, new_key())
    place_order([{"sku": "COF-0001", "quantity": 4}], client=APIClient())  # someone else buys it
    assert stock("COF-0001") == 1

    response = pay(api, order["number"], GOOD_CARD, new_key())

    body = assert_json_error(response, 409)
    assert body["code"] == "insufficient_stock"
    assert body["skus"] == ["COF-0001"]
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "payment_failed"
    assert stock("COF-0001") == 1
    assert Payment.objects.count() == 1  # the card was not charged


def release_as_staff(staff_api, number, attempt=1):
    """Staff release an order's reservation through the catalog API, as the catalog allows them to."""
    response = staff_api.post(f"/api/catalog/stock-reservations/order-{number}-{attempt}/release/")
    assert response.status_code == 200, response.content


def test_paying_an_order_whose_stock_was_released_reserves_it_again_first(
    api, staff_api, product, place_order, new_key
):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    release_as_staff(staff_api, order["number"])
    assert stock("COF-0001") == 5  # the fault: the order awaits payment, and holds nothing
    assert StockReservation.objects.get().status == "released"

    response = pay(api, order["number"], GOOD_CARD, new_key())

    assert response.status_code == 201, response.content
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "paid"
    assert stock("COF-0001") == 3
    held = dict(StockReservation.objects.values_list("reservation_id", "status"))
    assert held == {f"order-{order['number']}-1": "released", f"order-{order['number']}-2": "committed"}


def test_paying_an_order_whose_released_stock_is_gone_is_409_and_charges_nothing(
    api, staff_api, product, place_order, new_key
):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    release_as_staff(staff_api, order["number"])
    place_order([{"sku": "COF-0001", "quantity": 4}], client=APIClient())  # someone else buys it
    assert stock("COF-0001") == 1

    response = pay(api, order["number"], GOOD_CARD, new_key())

    body = assert_json_error(response, 409)
    assert (body["code"], body["skus"]) == ("insufficient_stock", ["COF-0001"])
    assert not Payment.objects.exists()  # the card was not charged
    assert not OrderPayment.objects.exists()
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "pending_payment"
    assert stock("COF-0001") == 1


def test_paying_a_paid_order_again_is_409_and_charges_nothing(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])
    pay(api, order["number"], GOOD_CARD, new_key())

    response = pay(api, order["number"], GOOD_CARD, new_key())

    assert assert_json_error(response, 409)["code"] == "order_not_payable"
    assert Payment.objects.count() == 1
    assert stock("COF-0001") == 4


def test_paying_a_cancelled_order_is_409(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])
    api.post(f"/api/orders/{order['number']}/cancel/")

    assert assert_json_error(pay(api, order["number"], GOOD_CARD, new_key()), 409)["code"] == "order_not_payable"
    assert not Payment.objects.exists()
    assert stock("COF-0001") == 5


# Cancelling


def test_cancelling_a_pending_order_gives_its_stock_back(api, product, place_order):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])

    response = api.post(f"/api/orders/{order['number']}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert stock("COF-0001") == 5
    # A second cancel changes nothing, and gives nothing back twice.
    assert api.post(f"/api/orders/{order['number']}/cancel/").json()["status"] == "cancelled"
    assert stock("COF-0001") == 5


def test_cancelling_after_a_decline_does_not_give_the_stock_back_twice(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    pay(api, order["number"], DECLINED_CARD, new_key())

    assert api.post(f"/api/orders/{order['number']}/cancel/").json()["status"] == "cancelled"
    assert stock("COF-0001") == 5


def test_cancelling_a_paid_order_is_409(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    pay(api, order["number"], GOOD_CARD, new_key())

    body = assert_json_error(api.post(f"/api/orders/{order['number']}/cancel/"), 409)

    assert body["code"] == "order_not_cancellable"
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "paid"
    assert stock("COF-0001") == 3


def test_someone_elses_order_cannot_be_paid_or_cancelled(product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    stranger = APIClient()

    assert pay(stranger, order["number"], GOOD_CARD, new_key()).status_code == 404
    assert stranger.post(f"/api/orders/{order['number']}/cancel/").status_code == 404
    assert Order.objects.get().status == "pending_payment"
    assert not Payment.objects.exists()
    assert stock("COF-0001") == 3


# Idempotency-Key on /pay/


def test_paying_without_an_idempotency_key_is_400_naming_the_header(api, product, place_order):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])

    response = api.post(f"/api/orders/{order['number']}/pay/", {"card": GOOD_CARD}, format="json")

    assert "Idempotency-Key" in assert_json_error(response, 400)
    assert not Payment.objects.exists()
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "pending_payment"


@pytest.mark.parametrize("key", ["has space", "", "k" * 201, "ключ"])
def test_a_malformed_idempotency_key_is_400_naming_the_header(api, product, place_order, key):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])

    response = api.post(
        f"/api/orders/{order['number']}/pay/", {"card": GOOD_CARD}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert "Idempotency-Key" in assert_json_error(response, 400)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("card", "status"), [(GOOD_CARD, 201), (DECLINED_CARD, 402)])
def test_the_same_key_and_body_replays_the_first_response(api, product, place_order, new_key, card, status):
    order = place_order([{"sku": "COF-0001", "quantity": 2}])
    key = new_key()
    first = pay(api, order["number"], card, key)

    again = pay(api, order["number"], card, key)

    assert (first.status_code, again.status_code) == (status, status)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert OrderPayment.objects.count() == 1
    assert stock("COF-0001") == (3 if status == 201 else 5)


def test_the_same_key_with_another_card_is_422(api, product, place_order, new_key):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])
    key = new_key()
    pay(api, order["number"], GOOD_CARD, key)

    response = pay(api, order["number"], {**GOOD_CARD, "number": "5555555555554444"}, key)

    body = assert_json_error(response, 422)
    assert body["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in body
    assert Payment.objects.count() == 1
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "paid"


# The orders' own limit on one product: lines for one sku are added up, and held to it


@pytest.mark.parametrize("quantities", [[600, 600], [1000, 1], [1000] * 11], ids=["600+600", "1000+1", "11x1000"])
def test_lines_for_one_sku_added_up_past_1000_are_400_naming_lines_and_the_sku(api, product, make_product, quantities):
    make_product("TEA-0001", stock=20_000)

    response = api.post(
        "/api/orders/",
        {
            **ORDER,
            "lines": [
                {"sku": "COF-0001", "quantity": 1},
                *({"sku": "TEA-0001", "quantity": q} for q in quantities),
            ],
        },
        format="json",
    )

    body = assert_json_error(response, 400)
    assert "TEA-0001" in " ".join(body["lines"]) and "1000" in " ".join(body["lines"]), body
    assert body["skus"] == ["TEA-0001"]
    assert "10000" not in response.content.decode()  # the catalog's own limit is not the orders client's business
    assert not Order.objects.exists()
    assert (stock("COF-0001"), stock("TEA-0001")) == (5, 20_000)


def test_lines_for_one_sku_added_up_to_1000_are_an_order(api, make_product):
    make_product("TEA-0001", stock=1000)

    response = api.post(
        "/api/orders/",
        {**ORDER, "lines": [{"sku": "TEA-0001", "quantity": 400}, {"sku": "TEA-0001", "quantity": 600}]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert stock("TEA-0001") == 0


# Bad input is a 4xx that names the field, never a 500

LINE = {"sku": "COF-0001", "quantity": 1}
BIG = "x" * 10_000


BAD_ORDERS = {
    "empty body": ({}, "email"),
    "no email": ({"shipping": SHIPPING, "lines": [LINE]}, "email"),
    "bad email": ({**ORDER, "email": "not-an-email", "lines": [LINE]}, "email"),
    "NUL in email": ({**ORDER, "email": "ada\x00@example.com", "lines": [LINE]}, "email"),
    "email a number": ({**ORDER, "email": 42, "lines": [LINE]}, "email"),
    "email longer than its column": ({**ORDER, "email": "a" * 250 + "@example.com", "lines": [LINE]}, "email"),
    "10 kB email": ({**ORDER, "email": BIG + "@example.com", "lines": [LINE]}, "email"),
    "no shipping": ({"email": "ada@example.com", "lines": [LINE]}, "shipping"),
    "shipping a string": ({**ORDER, "shipping": "12 Analytical Row", "lines": [LINE]}, "shipping"),
    "empty name": ({**ORDER, "shipping": {**SHIPPING, "name": ""}, "lines": [LINE]}, "shipping"),
    "NUL in name": ({**ORDER, "shipping": {**SHIPPING, "name": "Ada\x00"}, "lines": [LINE]}, "shipping"),
    "10 kB address": ({**ORDER, "shipping": {**SHIPPING, "line1": BIG}, "lines": [LINE]}, "shipping"),
    "three-letter country": ({**ORDER, "shipping": {**SHIPPING, "country": "GBR"}, "lines": [LINE]}, "shipping"),
    "digit in country": ({**ORDER, "shipping": {**SHIPPING, "country": "G1"}, "lines": [LINE]}, "shipping"),
    "country a list": ({**ORDER, "shipping": {**SHIPPING, "country": ["GB"]}, "lines": [LINE]}, "shipping"),
    "null postal code": ({**ORDER, "shipping": {**SHIPPING, "postal_code": None}, "lines": [LINE]}, "shipping"),
    "no lines": (ORDER, "lines"),
    "empty lines": ({**ORDER, "lines": []}, "lines"),
    "lines a string": ({**ORDER, "lines": "COF-0001"}, "lines"),
    "lines an object": ({**ORDER, "lines": {"sku": "COF-0001", "quantity": 1}}, "lines"),
    "null line": ({**ORDER, "lines": [None]}, "lines"),
    "no quantity": ({**ORDER, "lines": [{"sku": "COF-0001"}]}, "lines"),
    "no sku": ({**ORDER, "lines": [{"quantity": 1}]}, "lines"),
    "quantity a word": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": "two"}]}, "lines"),
    "quantity 0": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 0}]}, "lines"),
    "quantity -1": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": -1}]}, "lines"),
    "quantity 1.5": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 1.5}]}, "lines"),
    "quantity 2**31": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2**31}]}, "lines"),
    "quantity 2**63": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 2**63}]}, "lines"),
    "quantity 10**30": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 10**30}]}, "lines"),
    "quantity 1e308": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": 1e308}]}, "lines"),
    "null quantity": ({**ORDER, "lines": [{"sku": "COF-0001", "quantity": None}]}, "lines"),
    "NUL in sku": ({**ORDER, "lines": [{"sku": "COF\x00-0001", "quantity": 1}]}, "lines"),
    "10 kB sku": ({**ORDER, "lines": [{"sku": BIG, "quantity": 1}]}, "lines"),
    "empty sku": ({**ORDER, "lines": [{"sku": "", "quantity": 1}]}, "lines"),
    "null sku": ({**ORDER, "lines": [{"sku": None, "quantity": 1}]}, "lines"),
    "lower-case sku": ({**ORDER, "lines": [{"sku": "cof-0001", "quantity": 1}]}, "lines"),
    "101 lines": ({**ORDER, "lines": [LINE] + [{"sku": f"X-{i}", "quantity": 1} for i in range(100)]}, "lines"),
    "body a list": ([LINE], None),
    "body a string": ("an order", None),
    "body null": (None, None),
}


@pytest.mark.parametrize(("body", "field"), BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_bad_order_input_is_400_naming_the_field(api, product, body, field):
    response = api.post("/api/orders/", body, format="json")

    payload = assert_json_error(response, 400)
    if field:
        assert field in payload, payload
    assert not Order.objects.exists()
    assert stock("COF-0001") == 5


@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": ',
        b"\xff\xfe\x00",
        b"[1, 2",
        b'{"lines": NaN}',
        b"\x00" * 100,
        b'{"lines": [{"sku": "COF-0001", "quantity": ' + b"9" * 5000 + b"}]}",  # past Python's int-from-text limit
    ],
    ids=["truncated", "not UTF-8", "unclosed list", "NaN", "NUL bytes", "5000-digit number"],
)
def test_malformed_json_is_400(api, product, raw):
    response = api.post("/api/orders/", raw, content_type="application/json")

    assert assert_json_error(response, 400)["detail"]
    assert not Order.objects.exists()


BAD_CARDS = {
    "no card": (None, "card"),
    "card a string": ("4242424242424242", "card"),
    "empty card": ({}, "card"),
    "Luhn failure": ({**GOOD_CARD, "number": "4242424242424241"}, "number"),
    "letter in number": ({**GOOD_CARD, "number": "4242 4242 4242 424x"}, "number"),
    "NUL in number": ({**GOOD_CARD, "number": "4242\x00424242424242"}, "number"),
    "10 kB number": ({**GOOD_CARD, "number": BIG}, "number"),
    "empty number": ({**GOOD_CARD, "number": ""}, "number"),
    "null number": ({**GOOD_CARD, "number": None}, "number"),
    "superscript digit in number": ({**GOOD_CARD, "number": "424242424242424²"}, "number"),
    "full-width digits in number": ({**GOOD_CARD, "number": "４２４２４２４２４２４２４２４２"}, "number"),
    "month 13": ({**GOOD_CARD, "exp_month": 13}, "exp_month"),
    "month 0": ({**GOOD_CARD, "exp_month": 0}, "exp_month"),
    "month a word": ({**GOOD_CARD, "exp_month": "December"}, "exp_month"),
    "month 2**31": ({**GOOD_CARD, "exp_month": 2**31}, "exp_month"),
    "year 2**31": ({**GOOD_CARD, "exp_year": 2**31}, "exp_year"),
    "year 2**63+1": ({**GOOD_CARD, "exp_year": 2**63 + 1}, "exp_year"),
    "year -2**31": ({**GOOD_CARD, "exp_year": -(2**31)}, "exp_year"),
    "expired": ({**GOOD_CARD, "exp_year": 2020}, "exp_year"),
    "NUL in year": ({**GOOD_CARD, "exp_year": "2030\x00"}, "exp_year"),
    "letter in cvc": ({**GOOD_CARD, "cvc": "12a"}, "cvc"),
    "short cvc": ({**GOOD_CARD, "cvc": "12"}, "cvc"),
    "long cvc": ({**GOOD_CARD, "cvc": "12345"}, "cvc"),
    "NUL in cvc": ({**GOOD_CARD, "cvc": "1\x002"}, "cvc"),
    "no cvc": ({k: v for k, v in GOOD_CARD.items() if k != "cvc"}, "cvc"),
}


@pytest.mark.parametrize(("card", "field"), BAD_CARDS.values(), ids=BAD_CARDS.keys())
def test_bad_card_input_on_pay_is_400_naming_the_field(api, product, place_order, new_key, card, field):
    order = place_order([{"sku": "COF-0001", "quantity": 1}])

    response = api.post(
        f"/api/orders/{order['number']}/pay/", {"card": card}, format="json", headers={"Idempotency-Key": new_key()}
    )

    body = assert_json_error(response, 400)
    assert "card" in body
    if field != "card":
        assert field in body["card"], body
    assert not Payment.objects.exists()
    assert api.get(f"/api/orders/{order['number']}/").json()["status"] == "pending_payment"


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/ZZZZZZZZZZ/",
        "/api/orders/ZZZZZZZZZZ/cancel/",
        "/api/orders/abcdefghij/",
        "/api/orders/%00/",
        "/api/orders/ABC%20DEF/",
        "/api/orders/ABC-DEF/",
        "/api/orders/" + "A" * 17 + "/",
        "/api/orders/" + "A" * 10_000 + "/",
        "/api/orders/%E2%98%83/",
    ],
)
def test_an_unknown_or_malformed_order_number_is_a_json_404(api, product, path):
    method = api.post if path.endswith("cancel/") else api.get

    assert assert_json_error(method(path), 404)["code"] == "not_found"


def test_paying_an_unknown_order_is_a_json_404(api, product, new_key):
    assert assert_json_error(pay(api, "ZZZZZZZZZZ", GOOD_CARD, new_key()), 404)["code"] == "not_found"


def test_a_real_order_number_in_lower_case_is_404(api, product, place_order):
    number = place_order([{"sku": "COF-0001", "quantity": 1}])["number"]

    assert api.get(f"/api/orders/{number.lower()}/").status_code == 404


@pytest.mark.parametrize("query", ["page=abc", "page=99999999999999999999", "page_size=0", "page_size=%00", "page=%00"])
def test_a_bad_page_in_the_order_list_is_a_4xx(api, product, query):
    response = api.get(f"/api/orders/?{query}")

    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/json")
