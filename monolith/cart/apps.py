"""App config for the cart context."""

from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "monolith.cart"
    label = "cart"
