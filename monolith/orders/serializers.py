"""Orders API representations."""

from rest_framework import serializers

from monolith.core.serializers import CardSerializer

from .models import Order, OrderLine, OrderPayment
from .services import MAX_LINES, MAX_QUANTITY


class ShippingSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166 two-letter code, e.g. DE.")


class OrderLineRequestSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    # Per line; services.order_place holds repeated lines for one sku, added up, to the same limit.
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderRequestSerializer(serializers.Serializer):
    # The validator alone lets an address of up to 320 characters through; the
    # column holds 254 (RFC 5321's limit), and a longer one would be a 500.
    email = serializers.EmailField(max_length=254)
    shipping = ShippingSerializer()
    lines = OrderLineRequestSerializer(many=True, allow_empty=False, min_length=1, max_length=MAX_LINES)


class OrderLineSerializer(serializers.ModelSerializer):
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "name", "unit_price", "quantity", "line_total"]


class OrderPaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderPayment
        fields = ["payment_id", "status", "failure_code", "card_last4", "created_at"]


class OrderSerializer(serializers.ModelSerializer):
    shipping = ShippingSerializer(read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    payments = OrderPaymentSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "email",
            "shipping",
            "total",
            "currency",
            "lines",
            "payments",
            "created_at",
            "updated_at",
        ]


class PayRequestSerializer(serializers.Serializer):
    card = CardSerializer()


class PaymentResultSerializer(serializers.Serializer):
    """The payment an attempt made, as the payments context reported it."""

    id = serializers.UUIDField(allow_null=True, help_text="None while the payment is pending.")
    order_number = serializers.CharField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(["pending", "succeeded", "failed", "partially_refunded", "refunded"])
    failure_code = serializers.CharField(allow_blank=True)
    amount_refunded = serializers.DecimalField(max_digits=10, decimal_places=2)
    card_brand = serializers.CharField()
    card_last4 = serializers.CharField()
    created_at = serializers.DateTimeField()
