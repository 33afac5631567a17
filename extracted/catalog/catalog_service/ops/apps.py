"""App config for operations (fault injection into /api/catalog/)."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "catalog_service.ops"
    label = "ops"
