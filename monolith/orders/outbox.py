"""The payment outbox: record a payment attempt, deliver it, settle the order with the outcome.

An order's payment is decided in one transaction (the attempt, the outbox row, committed with
the stock it needs), then delivered to the payments context, by the request itself and, if that
cannot settle it, by the relay (`manage.py payments_relay`), always with the same idempotency
key, until the payment is final. The relay also commits the stock of paid orders in a catalog
in another process, in batches (order_stock_commit_due).
"""

import hmac
import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from monolith.core import cards, tracing
from monolith.core.errors import ApplicationError, Conflict, ServiceUnavailable
from monolith.core.idempotency import fingerprint
from monolith.ports.payments import PaymentInfo, PaymentResult
from monolith.wiring import get_catalog, get_payments

from . import card_vault
from .models import Order, OrderPayment

logger = logging.getLogger(__name__)


@transaction.atomic
def payment_attempt_record(*, order, card, idempotency_key):
    """Decide to pay: the attempt (the outbox row) and the stock it needs, in one transaction.

    Returns (attempt, created). A key seen before returns its attempt, if the card is the same.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    number = cards.validate_card(**card)
    card = {**card, "number": number}
    digest = fingerprint({"card": card})
    attempt = order.payments.filter(idempotency_key=idempotency_key).first()
    if attempt is not None:
        if not hmac.compare_digest(attempt.fingerprint, digest):
            raise ApplicationError(
                "This Idempotency-Key was used with a different request.",
                field="Idempotency-Key",
                code="idempotency_key_reused",
                status_code=422,
            )
        return attempt, False
    if order.payment_pending:
        raise Conflict(
            "A payment for this order is being settled: wait for it before paying again.", code="payment_pending"
        )
    if not order.can_pay:
        raise Conflict(
            f"This order is {order.get_status_display().lower()} and cannot be paid.", code="order_not_payable"
        )
    _hold_stock(order)
    attempt = OrderPayment.objects.create(
        order=order,
        idempotency_key=idempotency_key,
        fingerprint=digest,
        amount=order.total,
        currency=order.currency,
        card_brand=cards.card_brand(number),
        card_last4=number[-4:],
        card_sealed=card_vault.seal(card),
        # The request delivers it first; the relay only if the request could not settle it.
        next_delivery_at=timezone.now() + timedelta(seconds=settings.PAYMENT_INLINE_LEASE_SECONDS),
        # The checkout's trace, so that a delivery by the relay shows in it (monolith/core/tracing.py).
        trace_context=tracing.current_traceparent() or "",
    )
    return attempt, True


def _hold_stock(order):
    """Make sure the order's stock is held before its card is charged: a paid order always holds its stock.

    A failed payment gave its stock back; and staff or a service may have released the
    reservation of an order awaiting payment (the catalog's own API allows it). Either way the
    stock is reserved again, under a new id (so no retry can reserve twice), all lines or none:
    when any is short, the Conflict (code insufficient_stock, 409) names the short skus, the
    order stays as it was, and no card is charged.
    """
    catalog = get_catalog()
    if order.status == Order.Status.PENDING_PAYMENT and _stock_held(catalog, order):
        return
    if order.status == Order.Status.PENDING_PAYMENT:
        logger.warning(
            "Order %s is being paid, but its reservation %s is no longer held: reserving again.",
            order.number,
            order.reservation_id,
        )
    order.reservation_attempt += 1
    catalog.reserve(
        reservation_id=order.reservation_id,
        lines=[{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()],
    )
    order.status = Order.Status.PENDING_PAYMENT
    order.save(update_fields=["status", "reservation_attempt", "updated_at"])


def _stock_held(catalog, order):
    """Whether the catalog still holds the order's reservation (neither released nor committed):
    one read of that reservation, never cached."""
    return catalog.reservation_status(reservation_id=order.reservation_id) == "held"


def payment_deliver(attempt):
    """Take a payment attempt to the payments context and settle the order with the outcome.

    Returns the PaymentResult: final, or pending when the payments context cannot answer now
    (the attempt is then due again later, for the relay). Safe to call again and concurrently:
    the payments context sees the same idempotency key, and settling twice changes nothing.
    """
    attempt = OrderPayment.objects.select_related("order").get(pk=attempt.pk)
    if attempt.status != OrderPayment.PENDING:
        return PaymentResult(_payment_info(attempt), replayed=True)
    payments = get_payments()
    if connection.in_atomic_block and not payments.shares_transaction:
        # Charging in another process before this transaction commits the attempt could leave a
        # charge no attempt records: deliver once it is committed.
        transaction.on_commit(lambda: payment_deliver(attempt))
        return PaymentResult(_payment_info(attempt), replayed=False)
    try:
        result = payments.pay(
            idempotency_key=attempt.payment_key,
            order_number=attempt.order.number,
            amount=attempt.amount,
            currency=attempt.currency,
            card=card_vault.unseal(attempt.card_sealed),
        )
    except ServiceUnavailable as error:
        _deliver_later(attempt, error)
        return PaymentResult(_payment_info(attempt), replayed=False)
    except ApplicationError as error:
        # Refused outright (a 4xx): no retry would change that, so the payment has failed.
        logger.warning("The payments context refused the payment of order %s: %s", attempt.order.number, error)
        payment = replace(_payment_info(attempt), status="failed", failure_code=error.code[:32])
        result = PaymentResult(payment, replayed=False)
    try:
        attempt = payment_settle(attempt=attempt, payment=result.payment)
    except ServiceUnavailable as error:  # the catalog, to commit or release the stock
        _deliver_later(attempt, error)
    return PaymentResult(_payment_info(attempt), replayed=False)


def _deliver_later(attempt, error):
    """Not settled this time: due again after a back-off (0.5 s, 1 s, 2 s, ... up to the setting)."""
    deliveries = attempt.deliveries + 1
    wait = min(settings.PAYMENT_RETRY_MAX_SECONDS, 0.5 * 2 ** (deliveries - 1))
    OrderPayment.objects.filter(pk=attempt.pk, status=OrderPayment.PENDING).update(
        deliveries=deliveries,
        next_delivery_at=timezone.now() + timedelta(seconds=wait),
        last_error=str(error)[:300],
    )
    logger.warning(
        "Payment of order %s not settled (delivery %s): %s; trying again in %.1f s.",
        attempt.order.number,
        deliveries,
        error,
        wait,
    )


@transaction.atomic
def payment_settle(*, attempt, payment):
    """Record a final payment on its attempt and its order, and commit or release the stock. Idempotent.

    A failed payment gives its stock back now, for other shoppers. A successful one commits the
    reservation in this transaction when the catalog shares it (stage 0); a catalog in another
    process is told by the relay instead (order_stock_commit_due, below), off the shopper's path: the
    commit changes no stock count, and the reservation holds the units until then.
    """
    order = Order.objects.select_for_update().get(pk=attempt.order_id)
    attempt = OrderPayment.objects.select_for_update().get(pk=attempt.pk)
    if attempt.status != OrderPayment.PENDING:
        return attempt  # settled meanwhile, by the relay or the request
    catalog = get_catalog()
    if payment.status == "succeeded":
        order.status = Order.Status.PAID
        if catalog.shares_transaction:
            catalog.commit(reservation_id=order.reservation_id)
        else:
            order.stock_commit_due = True
    else:
        catalog.release(reservation_id=order.reservation_id)
        order.status = Order.Status.PAYMENT_FAILED
    order.save(update_fields=["status", "stock_commit_due", "updated_at"])
    attempt.status = payment.status
    attempt.payment_id = payment.id
    attempt.failure_code = payment.failure_code
    attempt.card_sealed = ""  # final: the card is not needed any more
    attempt.next_delivery_at = None
    attempt.settled_at = timezone.now()
    attempt.save()
    attempt.order = order
    return attempt


def payment_attempts_due(*, limit):
    """Claim up to `limit` attempts due for delivery, for the relay: each is kept off other relays a while."""
    with transaction.atomic():
        due = list(
            OrderPayment.objects.select_for_update(skip_locked=True)
            .filter(status=OrderPayment.PENDING, next_delivery_at__lte=timezone.now())
            .order_by("next_delivery_at")[:limit]
        )
        OrderPayment.objects.filter(pk__in=[a.pk for a in due]).update(
            next_delivery_at=timezone.now() + timedelta(seconds=settings.PAYMENT_INLINE_LEASE_SECONDS)
        )
    return due


@transaction.atomic
def order_stock_commit_due(*, limit):
    """Commit the reservations of up to `limit` paid orders due for it, in one catalog call, for
    the relay; returns how many orders were done.

    The orders are locked with SKIP LOCKED, so two relays never take the same one. Raises
    ServiceUnavailable when the catalog cannot be reached: they all stay due.
    """
    orders = list(
        Order.objects.select_for_update(skip_locked=True)
        .filter(stock_commit_due=True)
        .order_by("updated_at")
        .only("number", "reservation_attempt")[:limit]
    )
    if not orders:
        return 0
    # A span linked to each paid order's checkout trace (the query runs only when tracing is on).
    traced = OrderPayment.objects.filter(order__in=orders, status="succeeded").values_list("trace_context", flat=True)
    with tracing.linked("relay: commit stock", traced, **{"shop.orders": len(orders)}):
        outcome = get_catalog().commit_many(reservation_ids=[order.reservation_id for order in orders])
    lost = set(outcome.released) | set(outcome.unknown)
    for order in orders:
        if order.reservation_id in lost:
            # No retry can commit it: the reservation was released or is gone, so the paid units
            # may have been sold again. Say so loudly, once, and stop trying.
            logger.error(
                "Order %s is paid, but its reservation %s cannot be committed (%s). Check its stock by hand.",
                order.number,
                order.reservation_id,
                "released" if order.reservation_id in outcome.released else "no such reservation",
            )
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(stock_commit_due=False)
    return len(orders)


def _payment_info(attempt):
    """The payment as the attempt knows it: the final one's, or pending."""
    return PaymentInfo(
        id=attempt.payment_id,
        order_number=attempt.order.number,
        amount=attempt.amount,
        currency=attempt.currency,
        status=attempt.status,
        failure_code=attempt.failure_code,
        amount_refunded=Decimal("0.00"),
        card_brand=attempt.card_brand,
        card_last4=attempt.card_last4,
        created_at=attempt.created_at,
    )
