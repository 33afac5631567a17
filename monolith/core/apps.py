"""App config for the shared core."""

from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "monolith.core"
    label = "core"

    def ready(self):
        from .converters import OrderNumberConverter, ReservationIdConverter, SkuConverter

        # Registered once, here: pages and API share them, and registering a name
        # a second time is deprecated (an error from Django 6.0).
        register_converter(SkuConverter, "sku")
        register_converter(ReservationIdConverter, "reservation")
        register_converter(OrderNumberConverter, "order_number")
