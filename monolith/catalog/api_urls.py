"""/api/catalog/: the prefix the facade moves to the catalog service at stage 1."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from monolith.core.views import SchemaView

from . import api

# The <sku:...> and <reservation:...> converters are registered in CatalogConfig.ready().

urlpatterns = [
    path("categories/", api.CategoryListView.as_view(), name="catalog-category-list"),
    path("categories/<slug:slug>/", api.CategoryDetailView.as_view(), name="catalog-category-detail"),
    path("products/", api.ProductListView.as_view(), name="catalog-product-list"),
    path("products/<sku:sku>/", api.ProductDetailView.as_view(), name="catalog-product-detail"),
    path("stock-reservations/", api.StockReservationListView.as_view(), name="catalog-reservation-list"),
    path(
        "stock-reservations/<reservation:reservation_id>/",
        api.StockReservationDetailView.as_view(),
        name="catalog-reservation-detail",
    ),
    path(
        "stock-reservations/<reservation:reservation_id>/commit/",
        api.StockReservationCommitView.as_view(),
        name="catalog-reservation-commit",
    ),
    # Not under stock-reservations/, where a reservation_id could be "commits".
    path("stock-reservation-commits/", api.StockReservationCommitsView.as_view(), name="catalog-reservation-commits"),
    path(
        "stock-reservations/<reservation:reservation_id>/release/",
        api.StockReservationReleaseView.as_view(),
        name="catalog-reservation-release",
    ),
    path(
        "schema/",
        SchemaView.as_view(
            urlconf="monolith.catalog.schema_urls",
            custom_settings={
                "TITLE": "strangler-shop catalog API",
                "DESCRIPTION": "Categories, products and stock reservations, under /api/catalog/.",
            },
        ),
        name="catalog-schema",
    ),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="catalog-schema"), name="catalog-docs"),
]
