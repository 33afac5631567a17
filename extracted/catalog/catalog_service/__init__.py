"""The catalog service: /api/catalog/ (categories, products, stock reservations), extracted from the monolith."""
