"""The catalog write gate: writers share it, the stage switch takes it alone.

Every write to the catalog that the monolith makes or passes on (a stock reservation, its commit
or release, an edit in the admin or the API) holds the gate shared until its transaction ends,
and reads the stage only once it holds it. The switch (`manage.py set_stage`) holds it
exclusively while it copies the last changes and records the new stage. So a write either ends
before the final copy, and is copied, or starts after the new stage is recorded, and goes to the
new owner: none falls between the two.

The gate is a PostgreSQL advisory lock: nothing to clean up after a crash (a dead session's
locks go with it). SQLite has no such lock, so there the gate does nothing, and the live switch
refuses to run (`shop stage` says so); `shop up --stage N` moves the data before anything serves.
"""
from contextlib import contextmanager

from django.db import connection

# Any 64-bit number no other advisory lock on this database uses: "SHOPCAT1" in ASCII.
CATALOG_WRITES = 0x53484F5043415431


def enforced() -> bool:
    """True when the database has advisory locks (PostgreSQL)."""
    return connection.vendor == "postgresql"


def hold_shared() -> None:
    """Hold the gate shared until the current transaction ends. Call inside transaction.atomic()."""
    if enforced():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [CATALOG_WRITES])


@contextmanager
def held_exclusively():
    """Hold the gate alone: wait for every writer holding it to finish, let no new one in.

    A session lock, held across the transactions of the final copy and the stage's record.
    Writers that arrive meanwhile wait for it (they do not fail), so hold it briefly.
    """
    if not enforced():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [CATALOG_WRITES])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [CATALOG_WRITES])
