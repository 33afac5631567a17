"""What the catalog service's API needs around the catalog itself: errors, auth, middleware, pagination, health.

Copied from the monolith's core (small definitions are copied, not shared), so that both
processes answer /api/catalog/ alike; keep the two close.
"""
