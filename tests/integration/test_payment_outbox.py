"""Paying an order at stage 2: the attempt is recorded (the outbox) before it is delivered to a
real payments service, and a payment the service cannot settle now is settled later by the
relay with the same idempotency key: no order lost, no card charged twice, stock released on a decline."""

import io
from datetime import timedelta
from decimal import Decimal

import psycopg2
import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from monolith import wiring
from monolith.catalog import services as catalog_services
from monolith.catalog.models import Product, StockReservation
from monolith.orders.models import Order, OrderPayment
from tests.conftest import DECLINED_CARD, GOOD_CARD, SHIPPING
from tests.servers import PAYMENTS, free_port, serve

TOKEN = "outbox-test-token"


@pytest.fixture(scope="module")
def payments_service(tmp_path_factory):
    with serve(
        PAYMENTS,
        port=free_port(),
        name="payments_outbox",
        log_dir=tmp_path_factory.mktemp("payments-outbox"),
        env={"SERVICE_TOKENS": f"monolith={TOKEN}"},
    ) as server:
        yield server


@pytest.fixture
def stage2(transactional_db, payments_service, settings):
    """The monolith paying through the payments service (the outbox commits before it delivers:
    a transactional database, as in production)."""
    settings.PAYMENTS_BACKEND = "remote"
    settings.PAYMENTS_SERVICE_URL = payments_service.url
    settings.PAYMENTS_SERVICE_TOKEN = TOKEN
    with psycopg2.connect(payments_service.database_url) as database, database.cursor() as cursor:
        cursor.execute("TRUNCATE payments_refund, payments_payment, payments_idempotencykey CASCADE")
    database.close()
    faults(payments_service)  # none
    category = catalog_services.category_create(slug="beans", name="Beans")
    catalog_services.product_create(
        sku="PAY-0001", name="Outbox Beans", category=category, price=Decimal("12.50"), stock=10
    )
    with wiring.override():  # the payments adapter built afresh, from these settings
        yield payments_service


def faults(service, **values):
    changed = requests.put(
        f"{service.url}/ops/faults/",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"latency_ms": 0, "error_rate": 0, "timeout_after_charge_ms": 0, **values},
        timeout=5,
    )
    assert changed.status_code == 200, changed.text


def charges(service, number):
    """The payments the service holds for an order, by status."""
    listed = requests.get(
        f"{service.url}/api/payments/",
        params={"order_number": number},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert listed.status_code == 200, listed.text
    return sorted(payment["status"] for payment in listed.json()["results"])


def place(client, quantity=2):
    order = client.post(
        "/api/orders/",
        {"email": "ada@example.com", "shipping": SHIPPING, "lines": [{"sku": "PAY-0001", "quantity": quantity}]},
        format="json",
    )
    assert order.status_code == 201, order.content
    return order.json()["number"]


def pay(client, number, card, key):
    return client.post(f"/api/orders/{number}/pay/", {"card": card}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def relay_once():
    """What the relay does when the attempts are due: deliver them now."""
    OrderPayment.objects.filter(status="pending").update(next_delivery_at=timezone.now() - timedelta(seconds=1))
    out = io.StringIO()
    call_command("payments_relay", "--once", stdout=out)
    return out.getvalue()


def stock():
    return Product.objects.get(sku="PAY-0001").stock


def test_a_payment_is_charged_once_by_the_service_and_the_card_is_forgotten(stage2):
    client = APIClient()
    number = place(client)

    paid = pay(client, number, GOOD_CARD, "key-1")
    again = pay(client, number, GOOD_CARD, "key-1")

    assert paid.status_code == 201, paid.content
    assert paid.json()["status"] == "succeeded" and paid.json()["id"]
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == paid.json()
    assert charges(stage2, number) == ["succeeded"]
    assert Order.objects.get(number=number).status == "paid"
    assert StockReservation.objects.get(reservation_id=f"order-{number}-1").status == "committed"
    attempt = OrderPayment.objects.get(order__number=number)
    assert attempt.card_sealed == "" and attempt.settled_at is not None
    assert "4242424242424242" not in repr(OrderPayment.objects.values().get(pk=attempt.pk))


def test_a_declined_card_releases_the_stock(stage2):
    client = APIClient()
    number = place(client)
    assert stock() == 8

    declined = pay(client, number, DECLINED_CARD, "key-1")

    assert declined.status_code == 402, declined.content
    assert declined.json()["failure_code"] == "card_declined"
    assert Order.objects.get(number=number).status == "payment_failed"
    assert stock() == 10
    assert charges(stage2, number) == ["failed"]


def test_with_payments_down_the_order_waits_pending_with_its_stock_and_the_relay_settles_it(stage2):
    client = APIClient()
    number = place(client)
    stage2.stop()
    try:
        pending = pay(client, number, GOOD_CARD, "key-1")

        assert pending.status_code == 202, pending.content
        assert pending.json()["status"] == "pending" and pending.json()["id"] is None
        order = Order.objects.get(number=number)
        assert order.status == "pending_payment" and order.payment_pending
        assert stock() == 8  # still reserved
        page = client.get(f"/orders/{number}/", HTTP_ACCEPT="text/html")
        assert b"Payment pending" in page.content and b'http-equiv="refresh"' in page.content
        second = pay(client, number, GOOD_CARD, "key-2")  # another attempt while one is on its way
        assert second.status_code == 409 and second.json()["code"] == "payment_pending"
        assert "pending" in relay_once()  # still down: still pending, nothing lost
    finally:
        stage2.start()

    assert f"order {number}: succeeded" in relay_once()
    assert Order.objects.get(number=number).status == "paid"
    assert charges(stage2, number) == ["succeeded"]
    assert OrderPayment.objects.get(order__number=number).card_sealed == ""
    assert relay_once() == ""  # nothing left to deliver


def test_a_charge_the_client_timed_out_on_is_not_made_again(stage2, caplog):
    client = APIClient()
    number = place(client)
    # The service charges and commits, then answers 4 s later: after the adapter's 3 s read timeout.
    faults(stage2, timeout_after_charge_ms=4000)
    try:
        first = pay(client, number, GOOD_CARD, "key-1")
    finally:
        faults(stage2)

    # The client did time out: urllib3 says so as it retries the POST (its Idempotency-Key makes
    # that safe), and the retry, with the same key, gets the first answer replayed: paid now,
    # with the one charge, and nothing left for the relay.
    assert [
        record
        for record in caplog.records
        if record.name.startswith("urllib3") and "Read timed out" in record.getMessage()
    ], caplog.text
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "succeeded"
    assert Order.objects.get(number=number).status == "paid"
    assert charges(stage2, number) == ["succeeded"]
    assert relay_once() == ""


def test_injected_server_errors_leave_the_payment_to_the_relay_until_it_is_final(stage2):
    client = APIClient()
    numbers = [place(client, quantity=1) for _ in range(4)]
    faults(stage2, error_rate=1)  # every request to /api/payments/ is a 503: retried, then given up
    try:
        failing = [pay(client, number, GOOD_CARD, f"key-{number}").status_code for number in numbers[:2]]
    finally:
        faults(stage2)
    working = [pay(client, number, GOOD_CARD, f"key-{number}").status_code for number in numbers[2:]]

    assert failing == [202, 202]  # pending: the relay delivers them
    assert working == [201, 201]
    assert [Order.objects.get(number=n).status for n in numbers] == ["pending_payment"] * 2 + ["paid"] * 2

    relay_once()

    assert [Order.objects.get(number=n).status for n in numbers] == ["paid"] * 4
    assert all(charges(stage2, n) == ["succeeded"] for n in numbers)
    assert stock() == 6


class RefusingPayments:
    """A payments port that refuses every payment outright, as a 4xx from the service would."""

    shares_transaction = True

    def pay(self, **kwargs):
        from monolith.core.errors import ApplicationError

        raise ApplicationError("No payments for this merchant.", code="merchant_blocked", status_code=400)


@pytest.fixture
def refusing_payments():
    with wiring.override(payments=RefusingPayments()):
        yield


def test_a_payment_refused_outright_fails_at_once_and_releases_the_stock(db, refusing_payments):
    category = catalog_services.category_create(slug="beans", name="Beans")
    catalog_services.product_create(
        sku="PAY-0001", name="Outbox Beans", category=category, price=Decimal("12.50"), stock=10
    )
    client = APIClient()
    number = place(client)

    refused = pay(client, number, GOOD_CARD, "key-1")

    assert refused.status_code == 402, refused.content
    assert refused.json()["failure_code"] == "merchant_blocked"
    assert Order.objects.get(number=number).status == "payment_failed"
    assert stock() == 10
    assert OrderPayment.objects.get(order__number=number).card_sealed == ""


def test_the_relay_goes_on_when_one_delivery_breaks(db, settings, monkeypatch):
    from monolith.orders import outbox

    category = catalog_services.category_create(slug="beans", name="Beans")
    catalog_services.product_create(
        sku="PAY-0001", name="Outbox Beans", category=category, price=Decimal("12.50"), stock=10
    )
    client = APIClient()
    first, second = place(client, quantity=1), place(client, quantity=1)
    for number in (first, second):
        order = Order.objects.get(number=number)
        outbox.payment_attempt_record(order=order, card=dict(GOOD_CARD), idempotency_key=f"key-{number}")
    deliver = outbox.payment_deliver

    def breaks_for_the_first(attempt):
        if attempt.order.number == first:
            raise RuntimeError("a bug")
        return deliver(attempt)

    monkeypatch.setattr(outbox, "payment_deliver", breaks_for_the_first)
    output = relay_once()

    assert f"order {second}: succeeded" in output
    assert Order.objects.get(number=second).status == "paid"
    assert Order.objects.get(number=first).status == "pending_payment"  # due again once its claim runs out
