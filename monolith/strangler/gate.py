"""The write gates: writers of a context share its gate, the stage switch takes it alone.

Every write to the catalog that the monolith makes or passes on (a stock reservation, its commit
or release, an edit in the admin or the API) holds the catalog's gate shared until its
transaction ends; every payment it delivers or passes on holds the payments' gate shared while
it is delivered. Each reads the stage only once it holds its gate. The switch (`manage.py
set_stage`) holds a context's gate exclusively while it copies the last changes and records the
new stage. So a write either ends before the final copy, and is copied, or starts after the new
stage is recorded, and goes to the new owner: none falls between the two.

A gate is a PostgreSQL advisory lock: nothing to clean up after a crash (a dead session's locks
go with it). SQLite has no such lock, so there a gate does nothing, and the live switch refuses
to run (`shop stage` says so); `shop up --stage N` moves the data before anything serves.
"""

from contextlib import contextmanager

from django.db import connection


def enforced() -> bool:
    """True when the database has advisory locks (PostgreSQL)."""
    return connection.vendor == "postgresql"


class Gate:
    def __init__(self, name: str, key: int):
        self.name = name
        self.key = key  # any 64-bit number no other advisory lock on this database uses

    def _lock(self, function: str) -> None:
        if enforced():
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {function}(%s)", [self.key])

    def hold_shared(self) -> None:
        """Hold the gate shared until the current transaction ends. Call inside transaction.atomic()."""
        self._lock("pg_advisory_xact_lock_shared")

    @contextmanager
    def shared(self):
        """Hold the gate shared for a block, in or out of a transaction (a payment's delivery)."""
        self._lock("pg_advisory_lock_shared")
        try:
            yield
        finally:
            self._lock("pg_advisory_unlock_shared")

    @contextmanager
    def held_exclusively(self):
        """Hold the gate alone: wait for every writer holding it to finish, let no new one in.

        A session lock, held across the transactions of the final copy and the stage's record.
        Writers that arrive meanwhile wait for it (they do not fail), so hold it briefly.
        """
        self._lock("pg_advisory_lock")
        try:
            yield
        finally:
            self._lock("pg_advisory_unlock")


CATALOG = Gate("catalog", 0x53484F5043415431)  # "SHOPCAT1" in ASCII
PAYMENTS = Gate("payments", 0x53484F5050415931)  # "SHOPPAY1"
# Each context of the stage table (monolith/strangler/stages.py) by name.
BY_CONTEXT = {"catalog": CATALOG, "payments": PAYMENTS}
