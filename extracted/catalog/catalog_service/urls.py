"""The catalog service's URLs: the contract's /api/catalog/ prefix, plus ops (fault injection), health, admin and the API login."""

from django.contrib import admin
from django.urls import include, path
from django_prometheus.exports import ExportToDjangoView

from catalog_service.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    # Prometheus metrics at the process's own address; the facade answers 404 for /metrics.
    path("metrics", ExportToDjangoView, name="prometheus-django-metrics"),
    path("admin/", admin.site.urls),
    path("ops/", include("catalog_service.ops.urls")),
    path("api/catalog/", include("catalog_service.catalog.api_urls")),
    path("api-auth/", include("rest_framework.urls")),
]

handler400 = "catalog_service.core.views.bad_request"
