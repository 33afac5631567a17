"""App config for the service's core."""

from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "catalog_service.core"
    label = "core"

    def ready(self):
        from .converters import ReservationIdConverter, SkuConverter

        # Registered once, here: registering a name a second time is deprecated
        # (an error from Django 6.0).
        register_converter(SkuConverter, "sku")
        register_converter(ReservationIdConverter, "reservation")
