"""App config for the catalog."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog_service.catalog"
    # The monolith's label, so the tables are named as there (catalog_product, ...): one
    # layout on both sides, which the data move and its rollback rely on.
    label = "catalog"
