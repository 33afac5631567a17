"""/api/payments/: the prefix the facade moves to the payments service at stage 2."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from monolith.core.views import SchemaView

from . import api

urlpatterns = [
    path("", api.PaymentListView.as_view(), name="payments-payment-list"),
    path("<uuid:payment_id>/", api.PaymentDetailView.as_view(), name="payments-payment-detail"),
    path("<uuid:payment_id>/refunds/", api.RefundListView.as_view(), name="payments-refund-list"),
    path(
        "schema/",
        SchemaView.as_view(
            urlconf="monolith.payments.schema_urls",
            custom_settings={
                "TITLE": "strangler-shop payments API",
                "DESCRIPTION": "Payments against test cards, refunds and idempotency keys, under /api/payments/.",
            },
        ),
        name="payments-schema",
    ),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="payments-schema"), name="payments-docs"),
]
