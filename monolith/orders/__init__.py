"""The orders context: checkout, orders and their payment attempts. Stays in the monolith."""
