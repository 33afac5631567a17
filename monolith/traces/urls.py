"""The staff page of traces, under /staff/traces/."""

from django.urls import path

from . import views

app_name = "traces"

urlpatterns = [
    path("<path:ident>/", views.trace_detail, name="trace"),
]
