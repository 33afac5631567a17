"""Payments writes: charge a card once per idempotency key, refund what was paid.

They return what they did as records (PaymentRecord, RefundRecord: plain values, as the
payment or refund was when the write finished) in an outcome that says whether this was a
replay; the API chooses the HTTP status. A replay returns the record the first request made,
kept by the idempotency store, not the payment as it is now (a refund since changes nothing).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils.dateparse import parse_datetime

from monolith.core import cards
from monolith.core.errors import ApplicationError, Conflict

from . import gateway
from .idempotency import run_idempotent
from .models import Payment, Refund
from .selectors import payment_get


@dataclass(frozen=True)
class RefundRecord:
    id: UUID
    payment_id: UUID
    amount: Decimal
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, refund):
        return cls(
            id=refund.id,
            payment_id=refund.payment_id,
            amount=refund.amount,
            reason=refund.reason,
            created_at=refund.created_at,
        )

    def as_snapshot(self):
        """A JSON-ready copy, for the idempotency store; from_snapshot() gives the record back, equal."""
        return {
            "id": str(self.id),
            "payment_id": str(self.payment_id),
            "amount": str(self.amount),
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_snapshot(cls, data):
        return cls(
            id=UUID(data["id"]),
            # "payment": a refund the store kept as the API answered it, before it kept records.
            payment_id=UUID(data["payment_id"] if "payment_id" in data else data["payment"]),
            amount=Decimal(data["amount"]),
            reason=data["reason"],
            created_at=parse_datetime(data["created_at"]),
        )


@dataclass(frozen=True)
class PaymentRecord:
    id: UUID
    order_number: str
    amount: Decimal
    currency: str
    status: str
    failure_code: str
    amount_refunded: Decimal
    card_brand: str
    card_last4: str
    refunds: tuple[RefundRecord, ...]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment, *, refunds=None):
        """The record of `payment`; `refunds` spares the query when they are known (none, for a new payment)."""
        return cls(
            id=payment.id,
            order_number=payment.order_number,
            amount=payment.amount,
            currency=payment.currency,
            status=payment.status,
            failure_code=payment.failure_code,
            amount_refunded=payment.amount_refunded,
            card_brand=payment.card_brand,
            card_last4=payment.card_last4,
            refunds=tuple(RefundRecord.of(r) for r in payment.refunds.all()) if refunds is None else tuple(refunds),
            created_at=payment.created_at,
            updated_at=payment.updated_at,
        )

    def as_snapshot(self):
        """A JSON-ready copy, for the idempotency store; from_snapshot() gives the record back, equal."""
        return {
            "id": str(self.id),
            "order_number": self.order_number,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "failure_code": self.failure_code,
            "amount_refunded": str(self.amount_refunded),
            "card_brand": self.card_brand,
            "card_last4": self.card_last4,
            "refunds": [refund.as_snapshot() for refund in self.refunds],
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_snapshot(cls, data):
        return cls(
            id=UUID(data["id"]),
            order_number=data["order_number"],
            amount=Decimal(data["amount"]),
            currency=data["currency"],
            status=data["status"],
            failure_code=data["failure_code"],
            amount_refunded=Decimal(data["amount_refunded"]),
            card_brand=data["card_brand"],
            card_last4=data["card_last4"],
            refunds=tuple(RefundRecord.from_snapshot(r) for r in data["refunds"]),
            created_at=parse_datetime(data["created_at"]),
            updated_at=parse_datetime(data["updated_at"]),
        )


@dataclass(frozen=True)
class PaymentOutcome:
    payment: PaymentRecord
    replayed: bool  # the key was seen before: this is the first request's payment, as it was then


@dataclass(frozen=True)
class RefundOutcome:
    refund: RefundRecord
    replayed: bool


def payment_create(*, idempotency_key, order_number, amount, currency, card):
    """Charge `card` for an order; returns a PaymentOutcome (its payment succeeded, or failed with a failure_code).

    The same key with the same request returns the first outcome again without a second
    charge; the same key with another request raises IdempotencyMismatch.
    """
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
        return PaymentRecord.of(payment, refunds=())

    record, replayed = run_idempotent(
        key=f"payment:{idempotency_key}", payload=payload, operation=charge, restore=PaymentRecord.from_snapshot
    )
    return PaymentOutcome(payment=record, replayed=replayed)


def refund_create(*, payment_id, amount=None, reason="", idempotency_key=None):
    """Refund all or part of what is left of a payment; returns a RefundOutcome."""

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
        payment.transition_to(Payment.Status.REFUNDED if payment.refundable == 0 else Payment.Status.PARTIALLY_REFUNDED)
        payment.save(update_fields=["amount_refunded", "status", "updated_at"])
        return RefundRecord.of(refund)

    if idempotency_key is None:
        with transaction.atomic():
            return RefundOutcome(refund=refund(), replayed=False)
    payload = {"operation": "refund_create", "payment": str(payment_id), "amount": str(amount), "reason": reason}
    record, replayed = run_idempotent(
        key=f"refund:{idempotency_key}", payload=payload, operation=refund, restore=RefundRecord.from_snapshot
    )
    return RefundOutcome(refund=record, replayed=replayed)
