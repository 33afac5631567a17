"""Staff see payments, refunds and idempotency keys in the service's own admin, and refund from there."""

import pytest
from django.test import Client

from conftest import DECLINED_CARD, PAYMENT, charge
from payments_service.payments.models import Payment


@pytest.fixture
def staff_browser(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/payments/payment/", "/admin/payments/idempotencykey/", "/admin/auth/user/"],
)
def test_staff_see_the_admin_pages(staff_browser, paid, url):
    assert staff_browser.get(url).status_code == 200


def test_staff_open_a_payment(staff_browser, paid):
    page = staff_browser.get(f"/admin/payments/payment/{paid['id']}/change/")

    assert page.status_code == 200
    assert "4242" in page.content.decode()


def test_a_customer_cannot_open_the_admin(customer):
    client = Client()
    client.force_login(customer)
    assert client.get("/admin/payments/payment/").status_code == 302  # to the admin's login


def test_staff_refund_a_payment_from_the_admin(staff_browser, paid):
    response = staff_browser.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [paid["id"]]}, follow=True
    )

    assert response.status_code == 200
    payment = Payment.objects.get(pk=paid["id"])
    assert payment.status == "refunded"
    assert payment.amount_refunded == payment.amount
    assert "refunded" in response.content.decode()


def test_a_refund_the_admin_cannot_make_is_a_warning_not_an_error(staff_browser, staff_api, new_key):
    failed = charge(staff_api, new_key(), {**PAYMENT, "card": DECLINED_CARD}).json()

    response = staff_browser.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [failed["id"]]}, follow=True
    )

    assert response.status_code == 200
    assert "cannot be refunded" in response.content.decode()
    assert Payment.objects.get(pk=failed["id"]).status == "failed"


def test_payments_cannot_be_added_in_the_admin(staff_browser, db):
    assert staff_browser.get("/admin/payments/payment/add/").status_code == 403
