"""What the payments service's API needs around payments themselves: errors, auth, middleware, pagination, health.

Copied from the monolith's core (small definitions are copied, not shared), so that both
processes answer /api/payments/ alike; keep the two close.
"""
