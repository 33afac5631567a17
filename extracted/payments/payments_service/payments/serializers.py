"""Payments API representations. Card data comes in; only its last four digits go out."""

from decimal import Decimal

from rest_framework import serializers

from payments_service.core.serializers import CardSerializer

from .models import Payment, Refund


class RefundSerializer(serializers.ModelSerializer):
    payment = serializers.UUIDField(source="payment_id", read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "payment", "amount", "reason", "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "order_number",
            "amount",
            "currency",
            "status",
            "failure_code",
            "amount_refunded",
            "card_brand",
            "card_last4",
            "refunds",
            "created_at",
            "updated_at",
        ]


ORDER_NUMBER = r"^[A-Za-z0-9-]{1,32}$"


class PaymentRequestSerializer(serializers.Serializer):
    order_number = serializers.RegexField(ORDER_NUMBER)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Z]{3}$", help_text="ISO 4217 code, e.g. EUR.")
    card = CardSerializer()


class RefundRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Leave out to refund everything that is left.",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PaymentListQuerySerializer(serializers.Serializer):
    # Checked before the query: a NUL byte in a filter is a 400, not a database error.
    order_number = serializers.RegexField(
        ORDER_NUMBER, required=False, allow_blank=True, help_text="Only this order's payments."
    )
