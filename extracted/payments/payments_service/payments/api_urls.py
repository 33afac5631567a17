"""/api/payments/: the prefix the facade moves to this service at stage 2."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from payments_service.core.views import SchemaView

from . import api

urlpatterns = [
    path("", api.PaymentListView.as_view(), name="payments-payment-list"),
    path("<uuid:payment_id>/", api.PaymentDetailView.as_view(), name="payments-payment-detail"),
    path("<uuid:payment_id>/refunds/", api.RefundListView.as_view(), name="payments-refund-list"),
    # The title and description the monolith gives its /api/payments/schema/ are this service's
    # SPECTACULAR_SETTINGS; the ops endpoints are left out of the document (ops/api.py), so it
    # describes exactly this prefix, as the monolith's does.
    path("schema/", SchemaView.as_view(), name="payments-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="payments-schema"), name="payments-docs"),
]
