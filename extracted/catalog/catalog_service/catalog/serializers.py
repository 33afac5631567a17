"""Catalog API representations: what /api/catalog/ reads and writes, whichever process serves it."""

from django.conf import settings
from rest_framework import serializers

from .models import SKU_PATTERN, Category, Product, StockReservation, StockReservationLine


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name", "description"]


class ProductSerializer(serializers.ModelSerializer):
    sku = serializers.RegexField(SKU_PATTERN, max_length=32)
    # One choice, the shop's currency, so that the document says so (validate_currency words the error).
    currency = serializers.ChoiceField(
        choices=[settings.SHOP_CURRENCY],
        required=False,
        error_messages={"invalid_choice": f"This shop sells in {settings.SHOP_CURRENCY} only."},
    )
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    stock = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    slug = serializers.SlugField(max_length=200, required=False)

    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "slug",
            "description",
            "category",
            "price",
            "currency",
            "stock",
            "is_active",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate_currency(self, value):
        if value != settings.SHOP_CURRENCY:
            raise serializers.ValidationError(f"This shop sells in {settings.SHOP_CURRENCY} only.")
        return value


class ReservationLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=32)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


RESERVATION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class StockReservationRequestSerializer(serializers.Serializer):
    reservation_id = serializers.RegexField(RESERVATION_ID_PATTERN, max_length=64)
    lines = ReservationLineSerializer(many=True, allow_empty=False, min_length=1, max_length=100)


class StockReservationCommitsRequestSerializer(serializers.Serializer):
    reservation_ids = serializers.ListField(
        child=serializers.RegexField(RESERVATION_ID_PATTERN, max_length=64),
        allow_empty=False,
        min_length=1,
        max_length=100,
    )


class StockReservationCommitsSerializer(serializers.Serializer):
    """What a batch commit did with each id asked, in the order asked."""

    committed = serializers.ListField(child=serializers.CharField(), help_text="Committed now or before.")
    released = serializers.ListField(
        child=serializers.CharField(), help_text="Released before: not committed (the one-by-one commit's 409)."
    )
    unknown = serializers.ListField(
        child=serializers.CharField(), help_text="No such reservation (the one-by-one commit's 404)."
    )


class StockReservationRecordSerializer(serializers.Serializer):
    """A reservation as the catalog's other copy holds it, for the data move (PUT .../<id>/)."""

    status = serializers.ChoiceField(choices=StockReservation.Status.choices)
    lines = ReservationLineSerializer(many=True, allow_empty=False, min_length=1, max_length=100)


class ReservedLineSerializer(serializers.ModelSerializer):
    """A reserved line, with its product's name, price and currency as they are now.

    For a reservation just made, that is what the stock was reserved at, read under the rows'
    locks: the monolith prices an order from this answer, with no read of its own before it.
    """

    sku = serializers.CharField(source="product.sku")
    name = serializers.CharField(source="product.name")
    price = serializers.DecimalField(source="product.price", max_digits=10, decimal_places=2)
    currency = serializers.CharField(source="product.currency")

    class Meta:
        model = StockReservationLine
        fields = ["sku", "quantity", "name", "price", "currency"]


class StockReservationSerializer(serializers.ModelSerializer):
    lines = ReservedLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockReservation
        fields = ["reservation_id", "status", "lines", "created_at", "updated_at"]
