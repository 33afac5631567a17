"""Payments writes: charge a card once per idempotency key, refund what was paid."""
from decimal import Decimal

from django.db import transaction

from payments_service.core import cards
from payments_service.core.errors import ApplicationError, Conflict

from . import gateway
from .idempotency import run_idempotent
from .models import Payment, Refund
from .selectors import payment_get


def payment_create(*, idempotency_key, order_number, amount, currency, card):
    """Charge `card` for an order; returns (status_code, payment body, replayed).

    The same key with the same request returns the first response again without
    a second charge; the same key with another request raises IdempotencyMismatch.
    """
    from .serializers import PaymentSerializer

    number = cards.validate_card(**card)
    payload = {
        "operation": "payment_create",
        "order_number": order_number,
        "amount": str(Decimal(amount).quantize(Decimal("0.01"))),
        "currency": currency,
        "card": {**card, "number": number},
    }

    def charge():
        payment = Payment(
            order_number=order_number,
            amount=amount,
            currency=currency,
            card_brand=cards.card_brand(number),
            card_last4=number[-4:],
        )
        failure_code = gateway.charge(number=number, amount=amount, currency=currency)
        if failure_code:
            payment.transition_to(Payment.Status.FAILED)
            payment.failure_code = failure_code
        else:
            payment.transition_to(Payment.Status.SUCCEEDED)
        payment.save()
        return 201, PaymentSerializer(payment).data

    return run_idempotent(key=f"payment:{idempotency_key}", payload=payload, operation=charge)


def refund_create(*, payment_id, amount=None, reason="", idempotency_key=None):
    """Refund all or part of what is left of a payment; returns (status_code, refund body, replayed)."""
    from .serializers import RefundSerializer

    def refund():
        payment = payment_get(payment_id=payment_id, for_update=True)
        if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED):
            raise Conflict(f"A {payment.status} payment cannot be refunded.", code="not_refundable")
        refund_amount = payment.refundable if amount is None else amount
        if refund_amount <= 0:
            raise ApplicationError("A refund must be more than zero.", field="amount")
        if refund_amount > payment.refundable:
            raise ApplicationError(
                f"At most {payment.refundable} {payment.currency} is left to refund.", field="amount"
            )
        refund = Refund.objects.create(payment=payment, amount=refund_amount, reason=reason)
        payment.amount_refunded += refund_amount
        payment.transition_to(
            Payment.Status.REFUNDED if payment.refundable == 0 else Payment.Status.PARTIALLY_REFUNDED
        )
        payment.save(update_fields=["amount_refunded", "status", "updated_at"])
        return 201, RefundSerializer(refund).data

    if idempotency_key is None:
        with transaction.atomic():
            return (*refund(), False)
    payload = {"operation": "refund_create", "payment": str(payment_id), "amount": str(amount), "reason": reason}
    return run_idempotent(key=f"refund:{idempotency_key}", payload=payload, operation=refund)
