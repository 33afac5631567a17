"""App config for the parallel run."""

from django.apps import AppConfig


class ParallelRunConfig(AppConfig):
    name = "monolith.parallel_run"
    label = "parallel_run"
    verbose_name = "Parallel run"
