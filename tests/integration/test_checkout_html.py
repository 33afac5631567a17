"""Checkout through the HTML pages, as a browser does it: cart, checkout form, order page, pay again, cancel."""

import html
import re

import pytest
from django.conf import settings
from django.test import Client

from monolith.catalog.models import Product
from monolith.orders.models import Order
from monolith.payments.models import Payment

ORDER_URL = re.compile(r"^/orders/([A-Z0-9]{10})/$")


def hidden_key(page):
    match = re.search(r'<input type="hidden" name="idempotency_key" value="([^"]+)"', page.content.decode())
    assert match, "the form has no hidden idempotency key"
    return match.group(1)


def field_errors(page):
    """{field name: [error messages]} as shown next to each field of the page's forms."""
    shown = {}
    for block in re.findall(r'<div class="field has-error">(.*?)</div>', page.content.decode(), re.S):
        name = re.search(r'name="([a-z_0-9]+)"', block).group(1)
        shown[name] = [
            html.unescape(e) for e in re.findall(r'<p class="field-error" role="alert">(.*?)</p>', block, re.S)
        ]
    return shown


def status_shown(page):
    return re.search(r'data-testid="order-status">([^<]*)<', page.content.decode()).group(1)


def checkout_form(key, **changes):
    return {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "line2": "",
        "city": "London",
        "postal_code": "N1 7AA",
        "country": "GB",
        "card_number": "4242 4242 4242 4242",
        "exp_month": "12",
        "exp_year": "2030",
        "cvc": "123",
        "idempotency_key": key,
        **changes,
    }


@pytest.fixture
def shopper(client, product):
    """A browser with 2 of `product` (stock 5) in its cart."""
    response = client.post("/cart/add/", {"sku": product.sku, "quantity": 2})
    assert response.status_code == 302, response.content
    return client


def stock():
    return Product.objects.get(sku="COF-0001").stock


def test_the_checkout_page_shows_the_form_with_a_hidden_idempotency_key(shopper):
    page = shopper.get("/checkout/")

    assert page.status_code == 200
    assert len(hidden_key(page)) >= 16
    body = page.content.decode()
    for name in (
        "email",
        "name",
        "line1",
        "city",
        "postal_code",
        "country",
        "card_number",
        "exp_month",
        "exp_year",
        "cvc",
    ):
        assert f'name="{name}"' in body
    assert "Harbour Espresso Beans" in body
    assert "25.00" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert hidden_key(shopper.get("/checkout/")) != hidden_key(page)  # one key per rendered form


def test_a_checkout_with_a_good_card_is_paid_and_empties_the_cart(shopper):
    key = hidden_key(shopper.get("/checkout/"))

    response = shopper.post("/checkout/", checkout_form(key))

    assert response.status_code == 302, field_errors(response) or response.content
    number = ORDER_URL.match(response["Location"]).group(1)
    page = shopper.get(response["Location"])
    assert status_shown(page) == "Paid"
    assert f"Order {number} is paid" in page.content.decode()
    assert "card ending 4242" in page.content.decode()
    assert 'name="card_number"' not in page.content.decode()  # nothing left to pay
    assert "Your cart is empty" in shopper.get("/cart/").content.decode()
    order = Order.objects.get(number=number)
    assert (order.status, order.total, order.shipping_country) == ("paid", 25, "GB")
    assert stock() == 3


def test_a_declined_card_leads_to_the_order_page_to_try_another_card(shopper):
    response = shopper.post(
        "/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), card_number="4000000000000002")
    )

    assert response.status_code == 302
    assert ORDER_URL.match(response["Location"])
    page = shopper.get(response["Location"])
    body = page.content.decode()
    assert status_shown(page) == "Payment failed"
    assert "declined" in body
    assert "Try another card" in body and 'name="card_number"' in body
    assert stock() == 5  # a declined order holds no stock

    paid = shopper.post(
        f"{response['Location']}pay/",
        {
            "card_number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": hidden_key(page),
        },
    )

    assert paid.status_code == 302
    assert paid["Location"] == response["Location"]
    assert status_shown(shopper.get(response["Location"])) == "Paid"
    assert stock() == 3
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_paying_from_a_stale_order_page_does_not_charge_twice(shopper):
    response = shopper.post(
        "/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), card_number="4000000000000002")
    )
    stale = shopper.get(response["Location"])  # a second tab, still offering to pay
    shopper.post(
        f"{response['Location']}pay/",
        {
            "card_number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": hidden_key(stale),
        },
    )

    again = shopper.post(
        f"{response['Location']}pay/",
        {
            "card_number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": "another-tab-key",
        },
    )

    assert again.status_code == 302
    assert again["Location"] == response["Location"]
    shown = shopper.get(again["Location"])
    assert "cannot be paid" in shown.content.decode()
    assert status_shown(shown) == "Paid"
    assert "Pay " not in shown.content.decode()  # no pay form on a paid order
    assert Payment.objects.filter(status="succeeded").count() == 1


def test_a_retry_when_the_stock_is_gone_says_so(shopper):
    response = shopper.post(
        "/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), card_number="4000000000000002")
    )
    page = shopper.get(response["Location"])
    Product.objects.filter(sku="COF-0001").update(stock=1)  # sold to someone else meanwhile

    again = shopper.post(
        f"{response['Location']}pay/",
        {
            "card_number": "4242424242424242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": hidden_key(page),
        },
    )

    assert again.status_code == 400
    assert "Not enough stock for COF-0001" in again.content.decode()
    assert status_shown(again) == "Payment failed"
    assert Payment.objects.count() == 1
    assert stock() == 1


def test_a_bad_card_on_the_order_page_is_shown_next_to_the_field(shopper):
    response = shopper.post(
        "/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), card_number="4000000000000002")
    )
    page = shopper.get(response["Location"])

    again = shopper.post(
        f"{response['Location']}pay/",
        {
            "card_number": "4242424242424241",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "idempotency_key": hidden_key(page),
        },
    )

    assert again.status_code == 400
    assert "Luhn" in field_errors(again)["card_number"][0]
    assert status_shown(again) == "Payment failed"
    assert Payment.objects.count() == 1


def test_the_checkout_form_is_csrf_protected(product):
    browser = Client(enforce_csrf_checks=True)
    browser.get(f"/products/{product.sku}/")
    browser.post(
        "/cart/add/",
        {"sku": product.sku, "quantity": 1, "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME].value},
    )
    page = browser.get("/checkout/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)

    forged = browser.post("/checkout/", checkout_form(hidden_key(page)))

    assert forged.status_code == 403
    assert not Order.objects.exists()
    assert (
        browser.post("/checkout/", {**checkout_form(hidden_key(page)), "csrfmiddlewaretoken": token}).status_code == 302
    )
    assert Order.objects.count() == 1


def test_a_double_submitted_checkout_places_one_order(shopper):
    key = hidden_key(shopper.get("/checkout/"))
    # A double click sends the form twice before the first answer arrives. The cart is kept on the
    # server (database sessions), so the second finds it emptied by the first, and is shown the
    # order the first placed; had it come while the first was running, the idempotency key would
    # have given it the same order.
    first = shopper.post("/checkout/", checkout_form(key))

    second = shopper.post("/checkout/", checkout_form(key))

    assert (first.status_code, second.status_code) == (302, 302)
    assert second["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert stock() == 3


def test_submitting_the_same_checkout_again_later_places_no_second_order(shopper):
    key = hidden_key(shopper.get("/checkout/"))
    first = shopper.post("/checkout/", checkout_form(key))

    again = shopper.post("/checkout/", checkout_form(key))

    assert (again.status_code, again["Location"]) == (302, first["Location"])  # the order, not the empty cart
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1


BAD_CHECKOUTS = [
    ({"email": "ada-at-example.com"}, "email", "valid email"),
    ({"email": "a" * 250 + "@example.com"}, "email", ""),
    ({"email": "ada\x00@example.com"}, "email", "Null characters"),
    ({"name": ""}, "name", "required"),
    ({"name": "Ada\x00Lovelace"}, "name", "Null characters"),
    ({"line1": "x" * 10_000}, "line1", "at most 200"),
    ({"city": ""}, "city", "required"),
    ({"country": "Germany"}, "country", ""),
    ({"country": "G1"}, "country", "two-letter"),
    ({"country": "DE\n"}, "country", ""),
    ({"card_number": "4242424242424241"}, "card_number", "Luhn"),
    ({"card_number": "4242\x00424242424242"}, "card_number", "Null characters"),
    ({"card_number": "not a card"}, "card_number", "digits"),
    ({"exp_month": "1", "exp_year": "2020"}, "exp_year", "expired"),
    ({"exp_month": "13"}, "exp_month", ""),
    ({"exp_year": str(2**31)}, "exp_year", ""),
    ({"exp_year": "9" * 400}, "exp_year", ""),
    ({"exp_year": "twenty"}, "exp_year", "whole number"),
    ({"cvc": "12a"}, "cvc", "3 or 4 digits"),
    ({"cvc": "1\x002"}, "cvc", "Null characters"),
    ({"card_number": "424242424242424²"}, "card_number", "digits"),
]


def case_id(case):
    return " ".join(f"{name}={value!r}"[:40] for name, value in case[0].items())


@pytest.mark.parametrize(("changes", "field", "message"), BAD_CHECKOUTS, ids=[case_id(case) for case in BAD_CHECKOUTS])
def test_bad_checkout_input_is_400_with_the_error_next_to_the_field(shopper, changes, field, message):
    response = shopper.post("/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), **changes))

    assert response.status_code == 400
    errors = field_errors(response)
    assert list(errors) == [field], errors
    assert message in " ".join(errors[field])
    assert not Order.objects.exists()
    assert stock() == 5
    assert "Harbour Espresso Beans" in response.content.decode()  # the cart is still there


@pytest.mark.parametrize("key", ["", "x" * 65, "a\x00b"])
def test_a_missing_or_bad_idempotency_key_is_400_and_places_nothing(shopper, key):
    response = shopper.post("/checkout/", checkout_form(key))

    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert not Order.objects.exists()


def test_a_cart_with_more_than_is_in_stock_is_400_and_places_nothing(shopper):
    Product.objects.filter(sku="COF-0001").update(stock=1)

    response = shopper.post("/checkout/", checkout_form(hidden_key(shopper.get("/checkout/"))))

    assert response.status_code == 400
    assert "Not enough stock for COF-0001" in html.unescape(response.content.decode())
    assert not Order.objects.exists()
    assert not Payment.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, product, method):
    response = getattr(client, method)("/checkout/", checkout_form("k" * 32) if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert not Order.objects.exists()


def test_a_pending_order_can_be_cancelled_from_its_page(api, product, place_order):
    number = place_order([{"sku": "COF-0001", "quantity": 2}])["number"]
    page = api.get(f"/orders/{number}/")
    assert status_shown(page) == "Awaiting payment"
    assert f'action="/orders/{number}/cancel/"' in page.content.decode()

    response = api.post(f"/orders/{number}/cancel/")

    assert response.status_code == 302
    page = api.get(response["Location"])
    assert status_shown(page) == "Cancelled"
    assert f"Order {number} is cancelled" in page.content.decode()
    assert "/cancel/" not in page.content.decode() and 'name="card_number"' not in page.content.decode()
    assert stock() == 5


def test_a_declined_order_can_be_cancelled_without_giving_stock_back_twice(shopper):
    response = shopper.post(
        "/checkout/", checkout_form(hidden_key(shopper.get("/checkout/")), card_number="4000000000009995")
    )

    shopper.post(f"{response['Location']}cancel/")

    assert status_shown(shopper.get(response["Location"])) == "Cancelled"
    assert stock() == 5


def test_a_paid_order_cannot_be_cancelled(shopper):
    response = shopper.post("/checkout/", checkout_form(hidden_key(shopper.get("/checkout/"))))
    assert "/cancel/" not in shopper.get(response["Location"]).content.decode()

    refused = shopper.post(f"{response['Location']}cancel/", follow=True)

    assert "cannot be cancelled" in refused.content.decode()
    assert status_shown(refused) == "Paid"
    assert stock() == 3


def test_someone_elses_order_page_is_404(api, product, place_order, customer):
    number = place_order([{"sku": "COF-0001", "quantity": 2}])["number"]
    stranger = Client()
    signed_in = Client()
    signed_in.login(username="demo", password="demo")

    for client in (stranger, signed_in):
        assert client.get(f"/orders/{number}/").status_code == 404
        assert client.post(f"/orders/{number}/cancel/").status_code == 404
        assert (
            client.post(
                f"/orders/{number}/pay/",
                {
                    "card_number": "4242424242424242",
                    "exp_month": "12",
                    "exp_year": "2030",
                    "cvc": "123",
                    "idempotency_key": "k" * 32,
                },
            ).status_code
            == 404
        )
        assert number not in client.get("/orders/").content.decode()
    assert Order.objects.get().status == "pending_payment"
    assert not Payment.objects.exists()
    assert number in api.get("/orders/").content.decode()


@pytest.mark.parametrize(
    "path", ["/orders/ZZZZZZZZZZ/", "/orders/abcdefghij/", "/orders/%00/", "/orders/" + "A" * 17 + "/"]
)
def test_an_unknown_order_page_is_404(client, db, path):
    response = client.get(path)

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_an_order_placed_before_logging_in_is_the_customers_after(shopper, customer):
    response = shopper.post("/checkout/", checkout_form(hidden_key(shopper.get("/checkout/"))))
    number = response["Location"].rstrip("/").rsplit("/", 1)[1]

    assert shopper.post("/accounts/login/", {"username": "demo", "password": "demo"}).status_code == 302

    assert number in shopper.get("/orders/").content.decode()
    assert shopper.get(response["Location"]).status_code == 200
    assert Order.objects.get(number=number).user == customer
