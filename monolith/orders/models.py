"""Orders, their lines (priced as they were when ordered) and their payment attempts."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

# No 0/O or 1/I: an order number is read out over the phone.
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
NUMBER_LENGTH = 10


def new_order_number():
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=16, unique=True, default=new_order_number, editable=False)
    # The owner: a signed-in customer, or else the browser session that placed it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    shopper_id = models.CharField(max_length=32, blank=True, db_index=True)
    email = models.EmailField()
    shipping_name = models.CharField(max_length=100)
    shipping_line1 = models.CharField(max_length=200)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100)
    shipping_postal_code = models.CharField(max_length=20)
    shipping_country = models.CharField(max_length=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    # The stock held for this order; a new attempt after a failed payment
    # reserves again under a new id, so no retry can reserve twice.
    reservation_attempt = models.PositiveIntegerField(default=1)
    # Paid, and the reservation is still to be committed in a catalog in another process: the
    # relay does it after the shopper has the answer (outbox.order_stock_commit_due). A commit
    # changes no stock count, since the reservation already took the units.
    stock_commit_due = models.BooleanField(default=False)
    # Set when the client sent an Idempotency-Key (the checkout form always does):
    # a double-submitted checkout finds its order instead of placing another.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["updated_at"], condition=models.Q(stock_commit_due=True), name="stock_commits_due"),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("orders:order-detail", kwargs={"number": self.number})

    @property
    def shipping(self):
        return {
            "name": self.shipping_name,
            "line1": self.shipping_line1,
            "line2": self.shipping_line2,
            "city": self.shipping_city,
            "postal_code": self.shipping_postal_code,
            "country": self.shipping_country,
        }

    @property
    def reservation_id(self):
        return f"order-{self.number}-{self.reservation_attempt}"

    @property
    def payment_pending(self):
        """A payment attempt is on its way to the payments context and has not come back yet."""
        return any(payment.status == OrderPayment.PENDING for payment in self.payments.all())

    @property
    def can_pay(self):
        return self.status in (self.Status.PENDING_PAYMENT, self.Status.PAYMENT_FAILED) and not self.payment_pending

    @property
    def can_cancel(self):
        return self.can_pay


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # A copy of the product as it was when ordered, not a foreign key: the
    # catalog may change or move to another database, the order may not.
    sku = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self):
        return self.unit_price * self.quantity


class OrderPayment(models.Model):
    """One attempt to pay an order: the outbox the payment relay delivers from, and how it ended.

    Recorded in the transaction that decides to pay (the order's lock held), delivered to the
    payments context afterwards, by the request itself and, if that cannot settle it, by the
    relay (`manage.py payments_relay`), always with the same idempotency key, until the payment
    is final. The card the delivery needs is kept sealed (monolith/orders/card_vault.py) until then.
    """

    PENDING = "pending"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    idempotency_key = models.CharField(max_length=200)  # the client's
    # HMAC of the card: the same key with another card is a 422, as with the payments API.
    fingerprint = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=20, default=PENDING)  # pending, then the payment's
    payment_id = models.UUIDField(null=True, blank=True)
    failure_code = models.CharField(max_length=32, blank=True)
    card_brand = models.CharField(max_length=16, blank=True)
    card_last4 = models.CharField(max_length=4)
    card_sealed = models.TextField(blank=True)  # emptied once the payment is final
    deliveries = models.PositiveIntegerField(default=0)  # calls that did not settle it
    next_delivery_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # The W3C traceparent of the request that made the attempt: the relay's later delivery and
    # stock commit continue that trace (monolith/core/tracing.py). Empty when it was not traced.
    trace_context = models.CharField(max_length=55, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["order", "idempotency_key"], name="one_payment_per_key")]
        indexes = [
            models.Index(fields=["next_delivery_at"], condition=models.Q(status="pending"), name="payments_to_deliver"),
        ]

    def __str__(self):
        return f"{self.order.number}: {self.status}"

    @property
    def payment_key(self):
        """The key the payments context sees: the client's, scoped to the order."""
        return f"order-{self.order.number}:{self.idempotency_key}"
