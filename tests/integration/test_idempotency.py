"""Idempotency under concurrency, on PostgreSQL: one key, one charge (or refund), whoever comes second.

Each test starts its requests in threads, each with its own database connection,
released together by a barrier so that they really overlap.
"""

from decimal import Decimal

import pytest

from monolith.core.errors import Conflict
from monolith.orders import services as orders
from monolith.orders.models import Order, OrderPayment
from monolith.orders.owner import Owner
from monolith.payments import services as payments
from monolith.payments.models import IdempotencyKey, Payment, Refund
from tests.concurrency import run_concurrently
from tests.conftest import GOOD_CARD, SHIPPING

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6


def oks(results):
    return [value for outcome, value in results if outcome == "ok"]


def errors(results):
    return [value for outcome, value in results if outcome == "error"]


def place(product, quantity=1, owner=None):
    return orders.order_place(
        owner=owner or Owner(shopper_id="shopper-1"),
        email="ada@example.com",
        shipping=SHIPPING,
        lines=[{"sku": product.sku, "quantity": quantity}],
    )


def test_concurrent_charges_with_one_key_make_one_payment_and_answer_alike(db):
    def create():
        return payments.payment_create(
            idempotency_key="one-key",
            order_number="ORDER12345",
            amount=Decimal("12.50"),
            currency="EUR",
            card=dict(GOOD_CARD),
        )

    results = run_concurrently([create] * THREADS)

    assert errors(results) == []
    assert Payment.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    answers = oks(results)
    paid = {(outcome.payment.id, outcome.payment.status) for outcome in answers}
    assert paid == {(Payment.objects.get().pk, "succeeded")}
    assert all(outcome.payment == answers[0].payment for outcome in answers)
    assert sorted(outcome.replayed for outcome in answers) == [False] + [True] * (THREADS - 1)


def test_concurrent_pays_of_one_order_with_one_key_charge_once(product):
    order = place(product)

    results = run_concurrently(
        [lambda: orders.order_pay(order=order, card=dict(GOOD_CARD), idempotency_key="double-click")] * THREADS
    )

    assert errors(results) == []
    assert Payment.objects.count() == 1
    assert OrderPayment.objects.count() == 1
    assert {result.payment.id for result in oks(results)} == {Payment.objects.get().pk}
    assert sorted(result.replayed for result in oks(results)) == [False] + [True] * (THREADS - 1)
    assert Order.objects.get().status == "paid"


def test_concurrent_pays_of_one_order_with_different_keys_charge_once(product):
    order = place(product, quantity=2)

    results = run_concurrently(
        [
            (lambda key=f"key-{i}": orders.order_pay(order=order, card=dict(GOOD_CARD), idempotency_key=key))
            for i in range(THREADS)
        ]
    )

    assert [result.payment.status for result in oks(results)] == ["succeeded"]
    refused = errors(results)
    assert len(refused) == THREADS - 1
    # Refused while the first attempt is being settled, or once it is paid.
    assert all(isinstance(exc, Conflict) and exc.code in ("payment_pending", "order_not_payable") for exc in refused), (
        refused
    )
    assert Payment.objects.count() == 1
    assert Payment.objects.get().status == "succeeded"
    assert Order.objects.get().status == "paid"
    product.refresh_from_db()
    assert product.stock == 3


def test_a_double_submitted_checkout_places_one_order(product):
    owner = Owner(shopper_id="shopper-1")

    def submit():
        return orders.order_place(
            owner=owner,
            email="ada@example.com",
            shipping=SHIPPING,
            lines=[{"sku": product.sku, "quantity": 2}],
            idempotency_key="checkout:form-1",
        )

    results = run_concurrently([submit] * THREADS)

    assert errors(results) == []
    assert {order.number for order in oks(results)} == {Order.objects.get().number}
    product.refresh_from_db()
    assert product.stock == 3


def succeeded_payment():
    outcome = payments.payment_create(
        idempotency_key="charge",
        order_number="ORDER12345",
        amount=Decimal("12.50"),
        currency="EUR",
        card=dict(GOOD_CARD),
    )
    return outcome.payment.id


def test_concurrent_refunds_with_one_key_refund_once(db):
    payment_id = succeeded_payment()

    results = run_concurrently(
        [lambda: payments.refund_create(payment_id=payment_id, amount=Decimal("5.00"), idempotency_key="refund-1")]
        * THREADS
    )

    assert errors(results) == []
    assert Refund.objects.count() == 1
    assert len({outcome.refund.id for outcome in oks(results)}) == 1
    assert Payment.objects.get().amount_refunded == Decimal("5.00")


def test_concurrent_refunds_never_refund_more_than_was_paid(db):
    payment_id = succeeded_payment()

    results = run_concurrently(
        [
            (
                lambda key=f"refund-{i}": payments.refund_create(
                    payment_id=payment_id, amount=Decimal("5.00"), idempotency_key=key
                )
            )
            for i in range(THREADS)
        ]
    )

    assert len(oks(results)) == 2  # 2 x 5.00 of 12.50; a third would be too much
    assert all(exc.field == "amount" and exc.status_code == 400 for exc in errors(results)), errors(results)
    payment = Payment.objects.get()
    assert (payment.amount_refunded, payment.status) == (Decimal("10.00"), "partially_refunded")
    assert Refund.objects.count() == 2
