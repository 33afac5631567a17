"""App config for operations (the in-process catalog's fault switch)."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "monolith.ops"
    label = "ops"
