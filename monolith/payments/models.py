"""Payments, refunds and the idempotency keys that make retries safe."""

import uuid

from django.core.validators import MinValueValidator
from django.db import models

from monolith.core.errors import Conflict


class IllegalTransition(Conflict):
    code = "illegal_transition"


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"

    # Every status a payment may move to from each status; anything else is a bug
    # or a race, and is refused rather than silently applied.
    TRANSITIONS = {
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.PARTIALLY_REFUNDED: {Status.PARTIALLY_REFUNDED, Status.REFUNDED},
        Status.FAILED: set(),
        Status.REFUNDED: set(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField(max_length=32, db_index=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(max_length=32, blank=True)
    amount_refunded = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    # Only the last four digits of a card are ever stored.
    card_brand = models.CharField(max_length=16)
    card_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.amount} {self.currency} for {self.order_number} ({self.status})"

    @property
    def refundable(self):
        return self.amount - self.amount_refunded

    def transition_to(self, status):
        if status not in self.TRANSITIONS[self.status]:
            raise IllegalTransition(f"A {self.status} payment cannot become {status}.")
        self.status = status


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Refund of {self.amount} on {self.payment_id}"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key with a fingerprint of its request and the response we gave.

    The fingerprint is an HMAC of the request (keyed with SECRET_KEY), so it
    proves "same request" without keeping the card number it covered.
    """

    key = models.CharField(max_length=255, unique=True)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key
