"""The strangler's own machinery: which stage the shop is at, and the switch between stages.

Who owns which context from which stage is the stage table, stages.py. The stage itself is a row
in the monolith's database, read on every request that needs it, so every gunicorn worker
changes over at the same moment, without a restart. `manage.py set_stage` moves each context's
data to the stage's owner (moves.py, catalog_move.py, payments_move.py) and records the stage;
`shop stage` runs it and points the facade at the new owner (docs/migration-stage1.md).
"""
