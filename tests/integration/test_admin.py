"""Staff manage products and see orders and payments in the admin; a refund there goes through the payments service."""

import pytest
from django.test import Client

from monolith.orders.models import Order
from monolith.orders.services import order_pay
from monolith.payments.models import Payment
from tests.conftest import GOOD_CARD


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/catalog/product/",
        "/admin/catalog/category/",
        "/admin/orders/order/",
        "/admin/payments/payment/",
        "/admin/catalog/stockreservation/",
    ],
)
def test_staff_see_the_admin_pages(staff_browser, product, url):
    assert staff_browser.get(url).status_code == 200


def test_a_customer_cannot_open_the_admin(customer):
    client = Client()
    client.force_login(customer)
    assert client.get("/admin/catalog/product/").status_code == 302  # to the admin's login


def test_staff_change_a_price_in_the_admin(staff_browser, product):
    response = staff_browser.post(
        f"/admin/catalog/product/{product.pk}/change/",
        {
            "sku": product.sku,
            "name": product.name,
            "slug": product.slug,
            "description": "",
            "category": product.category_id,
            "price": "15.00",
            "currency": "EUR",
            "stock": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product.refresh_from_db()
    assert str(product.price) == "15.00"


def test_staff_refund_a_payment_from_the_admin(staff_browser, product, place_order, new_key):
    number = place_order([{"sku": product.sku, "quantity": 1}])["number"]
    order_pay(order=Order.objects.get(number=number), card=GOOD_CARD, idempotency_key=new_key())
    payment = Payment.objects.get(order_number=number)

    response = staff_browser.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [str(payment.pk)]}, follow=True
    )

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert payment.amount_refunded == payment.amount
    assert "refunded" in response.content.decode()
