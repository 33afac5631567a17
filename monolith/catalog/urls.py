"""Shop pages for browsing."""
from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="home"),
    path("products/", views.product_list, name="product-list"),
    path("products/<sku:sku>/", views.product_detail, name="product-detail"),
]
