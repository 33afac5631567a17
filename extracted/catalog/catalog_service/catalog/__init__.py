"""The catalog context, extracted: categories, products and their stock, and stock reservations."""
