"""Cart pages (adding to the cart is the product page's form: monolith/storefront/urls.py)."""

from django.urls import path

from . import views

app_name = "cart"
urlpatterns = [
    path("cart/", views.cart_detail, name="detail"),
    path("cart/update/", views.cart_update, name="update"),
    path("cart/remove/", views.cart_remove, name="remove"),
]
