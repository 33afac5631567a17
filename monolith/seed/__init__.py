"""The local run's data: `manage.py seed_shop` fills the catalog and makes the demo users.

An app of its own, not part of core, because it writes into a context (the catalog, through
its services): core is the ground floor and imports no context.
"""
