"""App config for the orders context."""

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "monolith.orders"
    label = "orders"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .services import order_claim

        def claim_session_orders(sender, request, user, **kwargs):
            # An order placed before logging in stays the shopper's after it.
            order_claim(user=user, shopper_id=request.session.get("shopper_id", "") if request else "")

        user_logged_in.connect(claim_session_orders, dispatch_uid="orders.claim_session_orders", weak=False)
