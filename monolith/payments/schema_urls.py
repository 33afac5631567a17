"""Only /api/payments/, for its own OpenAPI document (the same one the payments service serves)."""

from django.urls import include, path

urlpatterns = [path("api/payments/", include("monolith.payments.api_urls"))]
