"""The storefront's pages: the shop's home, the product list, a product's page and its add-to-cart form."""

from django.urls import path

from . import views

app_name = "storefront"
urlpatterns = [
    path("", views.product_list, name="home"),
    path("products/", views.product_list, name="product-list"),
    path("products/<sku:sku>/", views.product_detail, name="product-detail"),
    # Under the cart's prefix, as the contract has it, but the product page's form.
    path("cart/add/", views.add_to_cart, name="add-to-cart"),
]
