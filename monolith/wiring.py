"""Wiring: the one place that chooses which adapter serves each port.

The rest of the monolith asks here for the catalog and the payments port and never knows which
adapter is live (branch by abstraction).
"""
from monolith.ports.catalog import get_catalog
from monolith.ports.payments import get_payments

__all__ = ["get_catalog", "get_payments"]
