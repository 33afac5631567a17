"""Only /api/catalog/, for its own OpenAPI document (the same one the catalog service serves)."""

from django.urls import include, path

urlpatterns = [path("api/catalog/", include("monolith.catalog.api_urls"))]
