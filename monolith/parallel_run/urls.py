"""The staff page of the parallel run, under /staff/parallel-run/."""

from django.urls import path

from . import views

app_name = "parallel_run"

urlpatterns = [
    path("", views.difference_list, name="difference-list"),
]
