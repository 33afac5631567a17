"""The catalog context: categories, products and their stock. The first to be extracted."""
