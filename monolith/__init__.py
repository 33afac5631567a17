"""The strangler-shop monolith: catalog, cart, orders and payments in one Django project."""
