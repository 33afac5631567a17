"""App config for the storefront."""

from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "monolith.storefront"
    label = "storefront"
