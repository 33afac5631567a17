"""The strangler's own machinery: which stage the shop is at, and the switch between stages.

The stage is a row in the monolith's database, read on every request that needs it, so every
gunicorn worker changes over at the same moment, without a restart. `manage.py set_stage` moves
the catalog's data to the stage's owner and records the stage; `shop stage` runs it and points
the facade at the new owner (docs/migration-stage1.md).
"""
