"""/api/orders/: the monolith's, at every stage."""

from django.urls import path

from . import api

urlpatterns = [
    path("", api.OrderListView.as_view(), name="orders-order-list"),
    path("<order_number:number>/", api.OrderDetailView.as_view(), name="orders-order-detail"),
    path("<order_number:number>/pay/", api.OrderPayView.as_view(), name="orders-order-pay"),
    path("<order_number:number>/cancel/", api.OrderCancelView.as_view(), name="orders-order-cancel"),
]
