"""The migration dashboard, under /staff/migration/: the page, and the figures it polls."""

from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.migration, name="migration"),
    path("figures/", views.figures, name="figures"),
]
