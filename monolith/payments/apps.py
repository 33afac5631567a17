"""App config for the payments context."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "monolith.payments"
    label = "payments"
