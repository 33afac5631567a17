"""The staff page that draws a request's trace: /staff/traces/<trace id or request id>/."""

from django.apps import AppConfig


class TracesConfig(AppConfig):
    name = "monolith.traces"
    label = "traces"
    verbose_name = "Traces"
