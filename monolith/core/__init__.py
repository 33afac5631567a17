"""What every context of the monolith shares: errors, middleware, pagination, health."""
