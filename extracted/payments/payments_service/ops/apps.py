"""App config for operations (fault injection)."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "payments_service.ops"
    label = "ops"
