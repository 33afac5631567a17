"""App config for the migration dashboard."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "monolith.dashboard"
    label = "dashboard"
    verbose_name = "Migration dashboard"
