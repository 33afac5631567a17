"""The body of GET and PUT /ops/faults/, validated field by field."""

import math

from rest_framework import serializers

from .faults import MAX_DELAY_MS


class FaultsSerializer(serializers.Serializer):
    """Every field optional; null or left out means "the settings' default"."""

    latency_ms = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DELAY_MS,
        required=False,
        allow_null=True,
        help_text="Added before each /api/payments/ request is handled.",
    )
    error_rate = serializers.FloatField(
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        help_text="The share of /api/payments/ requests answered 503 (`injected_fault`) before anything is done.",
    )
    timeout_after_charge_ms = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DELAY_MS,
        required=False,
        allow_null=True,
        help_text="After a charge is made and committed, its response waits this long.",
    )

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        # float(True) is 1.0: a JSON true would otherwise set an error rate of 100 %.
        wrong_type = sorted(name for name in self.fields if isinstance(data.get(name), bool))
        if wrong_type:
            raise serializers.ValidationError({name: ["Enter a number, not true or false."] for name in wrong_type})
        # A misspelt field would otherwise be ignored in silence, and the fault never set.
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return values

    def validate_error_rate(self, value):
        # float("nan") passes both bounds (every comparison with NaN is false).
        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError("Enter a number from 0 to 1.")
        return value
