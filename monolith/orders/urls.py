"""Checkout and order pages."""

from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<order_number:number>/", views.order_detail, name="order-detail"),
    path("orders/<order_number:number>/pay/", views.order_pay, name="order-pay"),
    path("orders/<order_number:number>/cancel/", views.order_cancel, name="order-cancel"),
]
