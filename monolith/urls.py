"""The monolith's URLs. Each context owns its prefixes: the facade moves traffic by prefix."""

from django.contrib import admin
from django.urls import include, path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from monolith import health
from monolith.core.views import SchemaView

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus metrics at the process's own address; the facade answers 404 for /metrics.
    path("metrics", ExportToDjangoView, name="prometheus-django-metrics"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/catalog/", include("monolith.catalog.api_urls")),
    path("api/orders/", include("monolith.orders.api_urls")),
    path("api/payments/", include("monolith.payments.api_urls")),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include("rest_framework.urls")),
    path("staff/parallel-run/", include("monolith.parallel_run.urls")),
    path("staff/migration/", include("monolith.dashboard.urls")),
    path("staff/traces/", include("monolith.traces.urls")),
    path("", include("monolith.storefront.urls")),
    path("", include("monolith.cart.urls")),
    path("", include("monolith.orders.urls")),
]

handler400 = "monolith.core.views.bad_request"
handler404 = "monolith.core.views.page_not_found"
handler500 = "monolith.core.views.server_error"
