"""/ops/: operations endpoints, for the service token only."""

from django.urls import path

from . import api

urlpatterns = [
    path("faults/", api.FaultsView.as_view(), name="ops-faults"),
]
