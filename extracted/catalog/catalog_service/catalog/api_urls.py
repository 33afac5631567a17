"""/api/catalog/: the prefix the facade moves to this service at stage 1."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerSplitView

from catalog_service.core.views import SchemaView

from . import api

# The <sku:...> and <reservation:...> converters are registered in CoreConfig.ready().

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
    # The whole service is this prefix, so its document is the default one, with the title and
    # description the monolith gives its /api/catalog/schema/ (SPECTACULAR_SETTINGS).
    path("schema/", SchemaView.as_view(), name="catalog-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="catalog-schema"), name="catalog-docs"),
]
