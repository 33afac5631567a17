"""App config for the service's core."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "payments_service.core"
    label = "core"
