"""A customer buys through the facade with the API: the contract's purchase flow, end to end."""

import uuid

import pytest
import requests

from tests.conftest import DECLINED_CARD, GOOD_CARD, SHIPPING

pytestmark = pytest.mark.e2e


def test_a_customer_buys_a_product(shop):
    customer, responses = _customer()
    order = _order_something_in_stock(customer, shop.url)
    assert order["status"] == "pending_payment"

    payment = _pay(customer, shop.url, order["number"], GOOD_CARD)

    assert payment.status_code == 201, payment.text
    assert payment.json()["status"] == "succeeded"
    assert customer.get(f"{shop.url}api/orders/{order['number']}/").json()["status"] == "paid"
    for response in responses:
        assert response.headers.get("X-Served-By") == "monolith", response.url
        assert response.headers.get("X-Request-ID"), response.url


def test_a_declined_card_is_refused_and_the_order_stays_unpaid(shop):
    customer, _ = _customer()
    order = _order_something_in_stock(customer, shop.url)

    payment = _pay(customer, shop.url, order["number"], DECLINED_CARD)

    assert payment.status_code == 402, payment.text
    assert payment.json()["status"] == "failed"
    assert payment.json()["failure_code"] == "card_declined"
    assert customer.get(f"{shop.url}api/orders/{order['number']}/").json()["status"] == "payment_failed"


def _customer() -> tuple[requests.Session, list[requests.Response]]:
    """An API client that keeps its cookies (an anonymous order belongs to the session), and
    every response it has received."""
    session = requests.Session()
    responses = []
    session.hooks["response"].append(lambda response, *args, **kwargs: responses.append(response))
    return session, responses


def _order_something_in_stock(customer: requests.Session, url: str) -> dict:
    products = customer.get(f"{url}api/catalog/products/", params={"in_stock": "true"}, timeout=10)
    assert products.status_code == 200, products.text
    sku = products.json()["results"][0]["sku"]
    order = customer.post(
        f"{url}api/orders/",
        json={"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1}]},
        timeout=10,
    )
    assert order.status_code == 201, order.text
    return order.json()


def _pay(customer: requests.Session, url: str, number: str, card: dict) -> requests.Response:
    return customer.post(
        f"{url}api/orders/{number}/pay/",
        json={"card": card},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
