from django.apps import AppConfig


class StranglerConfig(AppConfig):
    name = "monolith.strangler"
    verbose_name = "Strangler stage"
