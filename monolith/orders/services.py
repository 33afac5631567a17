"""Checkout: place an order (reserving its stock), pay it, cancel it.

Orders reach the catalog and payments only through their ports, so these
functions work the same whether those contexts run in this process or not.
"""
import hmac
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from monolith.core import cards, tracing
from monolith.core.errors import ApplicationError, Conflict, NotFound, ServiceUnavailable
from monolith.core.idempotency import fingerprint
from monolith.wiring import get_catalog
from monolith.ports.payments import PaymentInfo, PaymentResult
from monolith.wiring import get_payments

from . import card_vault
from .models import Order, OrderLine, OrderPayment

logger = logging.getLogger(__name__)

MAX_LINES = 100


@dataclass(frozen=True)
class Owner:
    """Who an order belongs to: a signed-in user, or else a browser session's shopper id."""

    user: object = None
    shopper_id: str = ""

    @classmethod
    def from_request(cls, request):
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, shopper_id=shopper_id(request.session))


def shopper_id(session):
    """A random id for this browser, kept in its session, that anonymous orders belong to."""
    if "shopper_id" not in session:
        session["shopper_id"] = secrets.token_hex(16)
    return session["shopper_id"]


def order_place(*, owner, email, shipping, lines, idempotency_key=None):
    """Place an order for `lines` at today's catalog prices and reserve its stock.

    All lines or none: when any is short, nothing is reserved and the Conflict
    (code insufficient_stock) names the short skus.
    """
    quantities = Counter()
    for line in lines:
        quantities[line["sku"]] += line["quantity"]
    if not quantities:
        raise ApplicationError("An order needs at least one line.", field="lines")
    if len(quantities) > MAX_LINES:
        raise ApplicationError(f"An order has at most {MAX_LINES} lines.", field="lines")
    request = {"owner": owner, "email": email, "shipping": shipping, "quantities": quantities}
    if idempotency_key:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, **request)
    order = Order(
        user=owner.user,
        shopper_id=owner.shopper_id,
        email=email,
        shipping_name=shipping["name"],
        shipping_line1=shipping["line1"],
        shipping_line2=shipping.get("line2", ""),
        shipping_city=shipping["city"],
        shipping_postal_code=shipping["postal_code"],
        shipping_country=shipping["country"].upper(),
        idempotency_key=idempotency_key,
    )
    try:
        _order_reserve_and_create(get_catalog(), order=order, quantities=quantities)
    except IntegrityError:
        if not idempotency_key:
            raise
        # A concurrent submit of the same checkout won the race.
        return _replay(Order.objects.get(idempotency_key=idempotency_key), **request)
    return order


def _order_reserve_and_create(catalog, *, order, quantities):
    """Reserve the stock, then write the order priced as reserved, in one transaction; undo the reservation if that fails.

    One call to the catalog: the reservation answers with each line's name, price and currency,
    read under the product rows' locks, so the order charges the live price, never a cached one
    (and needs no read of its own before reserving). Its id is the order's, whose number is set
    before it is saved. At stage 0 the reservation is a row in this same transaction, so a
    rollback undoes it. From stage 1 the catalog service has already said yes and committed:
    once this process's transaction has rolled back (a database error, any exception after the
    reserve), the reservation is released, a compensating step. It is best effort: if the
    release fails too, `manage.py sweep_reservations` releases the orphan later.
    """
    reserved = False
    try:
        with transaction.atomic():
            lines = catalog.reserve(
                reservation_id=order.reservation_id,
                lines=[{"sku": sku, "quantity": quantity} for sku, quantity in quantities.items()],
            )
            reserved = True
            currencies = {line.currency for line in lines.values()}
            if len(currencies) > 1:
                raise ApplicationError("All lines of an order must be in one currency.", field="lines")
            order.currency = currencies.pop()
            order.total = sum(lines[sku].price * quantity for sku, quantity in quantities.items())
            order.save()
            OrderLine.objects.bulk_create(  # in the order the shopper gave them
                OrderLine(order=order, sku=sku, name=lines[sku].name, unit_price=lines[sku].price, quantity=quantity)
                for sku, quantity in quantities.items()
            )
    except Exception:
        # Here the transaction (or its savepoint, inside a request's) has already rolled back: the
        # order is gone before its stock is given back, never the other way round.
        if reserved:
            _release_after_rollback(catalog, reservation_id=order.reservation_id)
        raise


def _release_after_rollback(catalog, *, reservation_id):
    try:
        catalog.release(reservation_id=reservation_id)
    except NotFound:
        pass  # nothing held: at stage 0 the rollback took the reservation with the order
    except Exception:
        # Best effort: the failure the caller sees is the placement's, not this one.
        logger.warning("Placing an order failed after reserving %s, and releasing it failed too: "
                       "sweep_reservations will release it.", reservation_id, exc_info=True)
    else:
        logger.warning("Placing an order failed after reserving %s: released it.", reservation_id)


def _replay(order, *, owner, email, shipping, quantities):
    """The order a key already placed, if this is the same request from the same owner; else 422."""
    same_owner = order.user_id == owner.user.pk if order.user_id else (owner.user is None and order.shopper_id == owner.shopper_id)
    same_request = (
        order.email == email
        and order.shipping == {**shipping, "line2": shipping.get("line2", ""), "country": shipping["country"].upper()}
        and {line.sku: line.quantity for line in order.lines.all()} == dict(quantities)
    )
    if not (same_owner and same_request):
        raise ApplicationError(
            "This Idempotency-Key was used for another order.", field="Idempotency-Key", code="idempotency_key_reused", status_code=422
        )
    return order


def order_pay(*, order, card, idempotency_key):
    """Pay an order; returns a PaymentResult: succeeded, failed, or pending (settled later).

    Records the attempt, then delivers it (payment_attempt_record, payment_deliver). The same
    key for the same order replays the first outcome (no second charge); the same key with
    another card is a 422. A failed payment may be retried with a new key.
    """
    attempt, created = payment_attempt_record(order=order, card=card, idempotency_key=idempotency_key)
    result = payment_deliver(attempt)
    return PaymentResult(result.payment, replayed=not created)


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
                "This Idempotency-Key was used with a different request.", field="Idempotency-Key",
                code="idempotency_key_reused", status_code=422,
            )
        return attempt, False
    if order.payment_pending:
        raise Conflict("A payment for this order is being settled: wait for it before paying again.",
                       code="payment_pending")
    if not order.can_pay:
        raise Conflict(f"This order is {order.get_status_display().lower()} and cannot be paid.", code="order_not_payable")
    if order.status == Order.Status.PAYMENT_FAILED:
        # The failed attempt gave its stock back: hold it again under a new id.
        order.reservation_attempt += 1
        get_catalog().reserve(
            reservation_id=order.reservation_id,
            lines=[{"sku": line.sku, "quantity": line.quantity} for line in order.lines.all()],
        )
        order.status = Order.Status.PENDING_PAYMENT
        order.save(update_fields=["status", "reservation_attempt", "updated_at"])
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
        trace_context=tracing.current_traceparent() or None,
    )
    return attempt, True


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
            idempotency_key=attempt.payment_key, order_number=attempt.order.number, amount=attempt.amount,
            currency=attempt.currency, card=card_vault.unseal(attempt.card_sealed),
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
        deliveries=deliveries, next_delivery_at=timezone.now() + timedelta(seconds=wait), last_error=str(error)[:300],
    )
    logger.warning("Payment of order %s not settled (delivery %s): %s; trying again in %.1f s.",
                   attempt.order.number, deliveries, error, wait)


@transaction.atomic
def payment_settle(*, attempt, payment):
    """Record a final payment on its attempt and its order, and commit or release the stock. Idempotent.

    A failed payment gives its stock back now, for other shoppers. A successful one commits the
    reservation in this transaction when the catalog shares it (stage 0); a catalog in another
    process is told by the relay instead (order_stock_commit_due), off the shopper's path: the
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
    orders = list(Order.objects.select_for_update(skip_locked=True).filter(stock_commit_due=True)
                  .order_by("updated_at").only("number", "reservation_attempt")[:limit])
    if not orders:
        return 0
    traced = OrderPayment.objects.filter(order__in=orders, status="succeeded").values_list("trace_context", flat=True)
    with tracing.linked("relay: commit stock", traced, **{"shop.orders": len(orders)}):
        outcome = get_catalog().commit_many(reservation_ids=[order.reservation_id for order in orders])
    lost = set(outcome.released) | set(outcome.unknown)
    for order in orders:
        if order.reservation_id in lost:
            # No retry can commit it: the reservation was released or is gone, so the paid units
            # may have been sold again. Say so loudly, once, and stop trying.
            logger.error("Order %s is paid, but its reservation %s cannot be committed (%s). Check its stock by hand.",
                         order.number, order.reservation_id,
                         "released" if order.reservation_id in outcome.released else "no such reservation")
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


def order_claim(*, user, shopper_id):
    """Give a customer who just logged in the orders this browser placed anonymously."""
    if shopper_id:
        Order.objects.filter(user__isnull=True, shopper_id=shopper_id).update(user=user)


@transaction.atomic
def order_cancel(*, order):
    """Cancel an unpaid order; the stock it held goes back."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.payment_pending:
        raise Conflict("A payment for this order is being settled: it cannot be cancelled now.", code="payment_pending")
    if not order.can_cancel:
        raise Conflict(f"This order is {order.get_status_display().lower()} and cannot be cancelled.", code="order_not_cancellable")
    if order.status == Order.Status.PENDING_PAYMENT:
        get_catalog().release(reservation_id=order.reservation_id)
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    return order
