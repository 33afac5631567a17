"""Serializers the API shares: the error body, for the OpenAPI document."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """An error: `detail` and `code`, or, for invalid input, one list of messages per field."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
