"""Serializers the API shares: the error body (for the OpenAPI document) and a card.

A copy of the monolith's core/serializers.py."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .cards import validate_card


class ErrorSerializer(serializers.Serializer):
    """An error: `detail` and `code`, or, for invalid input, one list of messages per field."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


# The formats validate_card (core/cards.py) enforces, stated in the OpenAPI documents. It also drops
# spaces and dashes between a number's digit groups, and checks what no pattern can: the Luhn
# check digit and the expiry date.
@extend_schema_field({"type": "string", "pattern": "^[0-9]{12,19}$", "minLength": 12, "maxLength": 19})
class CardNumberField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": "^[0-9]{3,4}$", "minLength": 3, "maxLength": 4})
class CvcField(serializers.CharField):
    pass


class CardSerializer(serializers.Serializer):
    """A test card as a client sends it. Validated here, and never stored beyond its last four digits."""

    number = CardNumberField(
        max_length=32,
        help_text="Test cards: 4242424242424242 succeeds, "
        "4000000000000002 is declined, 4000000000009995 has insufficient funds. "
        "Spaces or dashes between groups of digits are dropped; "
        "the number must pass the Luhn check.",
    )
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="With exp_month, not in the past.")
    cvc = CvcField(max_length=4)

    def validate(self, attrs):
        try:
            attrs["number"] = validate_card(**attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs
