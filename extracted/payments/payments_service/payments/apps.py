"""App config for payments."""

from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments_service.payments"
    # The monolith's label, so the tables are named as there (payments_payment, ...): one
    # layout on both sides, which a data move and its rollback rely on.
    label = "payments"
