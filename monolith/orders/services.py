"""Orders: place an order (reserving its stock), check out (place and pay at once), pay, cancel.

Orders reach the catalog and payments only through their ports, so these functions work the
same whether those contexts run in this process or not. Paying goes through the payment
outbox (outbox.py): the attempt is recorded, then delivered, and a relay delivers what a
request could not settle.
"""

import logging
from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from monolith.core.errors import ApplicationError, Conflict, NotFound
from monolith.ports.payments import PaymentInfo, PaymentResult
from monolith.wiring import get_catalog

from . import outbox
from .models import Order, OrderLine

logger = logging.getLogger(__name__)

MAX_LINES = 100
# The most of one product an order may hold, however its lines are written: repeated lines for
# one sku are added up first, and the sum must stay within this too (the API's per-line limit).
MAX_QUANTITY = 1000


@dataclass(frozen=True)
class CheckoutResult:
    """What a checkout did: the order placed, and its payment (succeeded, failed, or pending)."""

    order: Order
    payment: PaymentInfo
    replayed: bool  # the same checkout was submitted before: this is its order and payment


def order_place(*, owner, email, shipping, lines, idempotency_key=None):
    """Place an order for `lines` at today's catalog prices and reserve its stock.

    All lines or none: when any is short, nothing is reserved and the Conflict
    (code insufficient_stock) names the short skus.
    """
    quantities = _quantities(lines)
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


def _quantities(lines):
    """The quantity of each sku, repeated lines added up, within the orders' own limits.

    Checked here, before the catalog sees the lines, so that a client meets the orders' limits
    and their words, never the catalog's (whose limits are its own business, and higher).
    """
    quantities = Counter()
    for line in lines:
        quantities[line["sku"]] += line["quantity"]
    if not quantities:
        raise ApplicationError("An order needs at least one line.", field="lines")
    if len(quantities) > MAX_LINES:
        raise ApplicationError(f"An order has at most {MAX_LINES} lines.", field="lines")
    over = [sku for sku, quantity in quantities.items() if quantity > MAX_QUANTITY]
    if over:
        raise ApplicationError(
            f"An order holds at most {MAX_QUANTITY} of one product, its lines for it added up: "
            f"{', '.join(over)} has more.",
            field="lines",
            code="too_many_of_one_product",
            extra={"skus": over},
        )
    return quantities


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
        logger.warning(
            "Placing an order failed after reserving %s, and releasing it failed too: "
            "sweep_reservations will release it.",
            reservation_id,
            exc_info=True,
        )
    else:
        logger.warning("Placing an order failed after reserving %s: released it.", reservation_id)


def _replay(order, *, owner, email, shipping, quantities):
    """The order a key already placed, if this is the same request from the same owner; else 422."""
    same_owner = (
        order.user_id == owner.user.pk
        if order.user_id
        else (owner.user is None and order.shopper_id == owner.shopper_id)
    )
    same_request = (
        order.email == email
        and order.shipping == {**shipping, "line2": shipping.get("line2", ""), "country": shipping["country"].upper()}
        and {line.sku: line.quantity for line in order.lines.all()} == dict(quantities)
    )
    if not (same_owner and same_request):
        raise ApplicationError(
            "This Idempotency-Key was used for another order.",
            field="Idempotency-Key",
            code="idempotency_key_reused",
            status_code=422,
        )
    return order


def checkout(*, owner, email, shipping, lines, card, idempotency_key):
    """Place an order for `lines` and pay it with `card`: the checkout form's one call.

    Placing the order and recording its payment attempt happen in one transaction, so a card
    refused before any charge (a bad number, say) leaves no half-placed order behind; the
    attempt is delivered once that transaction has committed. The same `idempotency_key` again
    (a double submit) finds the same order and replays its payment instead of charging twice.
    """
    with transaction.atomic():
        order = order_place(
            owner=owner, email=email, shipping=shipping, lines=lines, idempotency_key=f"checkout:{idempotency_key}"
        )
        attempt, created = outbox.payment_attempt_record(order=order, card=card, idempotency_key=idempotency_key)
    result = outbox.payment_deliver(attempt)
    return CheckoutResult(order=order, payment=result.payment, replayed=not created)


def order_pay(*, order, card, idempotency_key):
    """Pay an order; returns a PaymentResult: succeeded, failed, or pending (settled later).

    Records the attempt, then delivers it (outbox.payment_attempt_record, outbox.payment_deliver).
    The same key for the same order replays the first outcome (no second charge); the same key
    with another card is a 422. A failed payment may be retried with a new key.
    """
    attempt, created = outbox.payment_attempt_record(order=order, card=card, idempotency_key=idempotency_key)
    result = outbox.payment_deliver(attempt)
    return PaymentResult(result.payment, replayed=not created)


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
        raise Conflict(
            f"This order is {order.get_status_display().lower()} and cannot be cancelled.", code="order_not_cancellable"
        )
    if order.status == Order.Status.PENDING_PAYMENT:
        get_catalog().release(reservation_id=order.reservation_id)
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status", "updated_at"])
    return order
