"""App config for the seed command's app."""

from django.apps import AppConfig


class SeedConfig(AppConfig):
    name = "monolith.seed"
    label = "seed"
