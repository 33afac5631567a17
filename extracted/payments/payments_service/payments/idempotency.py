"""Idempotency keys, as Stripe promises them: one key, one outcome.

The monolith's payments/idempotency.py, but for what the service promises about a key that is
still in flight: there a second request waits for the first and replays it; here it is
answered at once with a 409 (`idempotency_key_in_use`), as Stripe answers, so that a client
retrying after its own timeout never holds a worker (and a database connection) while the first
request finishes. It may retry a moment later and get the first response.

How: the key row is inserted in the same transaction as the work it guards, after taking a
transaction-scoped PostgreSQL advisory lock on the key. A second request with the same key that
cannot take the lock is refused with the 409; once the first commits, the lock is free and the
second finds the stored response and replays it. Two concurrent requests never make two charges
(the unique index would stop a second row even without the lock). Input that fails validation
stores nothing (the transaction rolls back), so a corrected retry with the same key is allowed.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from payments_service.core.errors import ApplicationError, Conflict

from .models import IdempotencyKey


class IdempotencyMismatch(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"

    def __init__(self):
        super().__init__(
            "A request with this Idempotency-Key is still in progress: retry in a moment to get its response.",
            field="Idempotency-Key",
        )


def fingerprint(payload) -> str:
    message = json.dumps(payload, sort_keys=True, default=str).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def run_idempotent(*, key, payload, operation, restore):
    """Run `operation()` once per key; returns (its result, replayed).

    The result is kept as its snapshot (`result.as_snapshot()`, JSON); a replay gives back
    `restore(snapshot)`, the first request's result as it was then.
    """
    digest = fingerprint(payload)
    with transaction.atomic():
        _claim(key)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(key=key, fingerprint=digest)
        except IntegrityError:
            return restore(_replay(key, digest)), True
        result = operation()
        # response_status is no longer written: how to answer is the API's choice, not the store's.
        record.response_body = result.as_snapshot()
        record.save(update_fields=["response_body"])
        return result, False


def _claim(key):
    """Hold `key` until the transaction ends, or raise IdempotencyKeyInUse if another one holds it.

    pg_try_advisory_xact_lock never waits, and PostgreSQL releases the lock at commit or
    rollback, so a crashed request never leaves a key stuck. The lock is on a 64-bit hash of
    the key: two different keys sharing a hash, both in flight at once, would give one of them
    a needless 409 (a retry cures it), never a wrong replay, which the unique index rules out.
    SQLite (a local run without DATABASE_URL) has no advisory locks, and needs none: its
    IMMEDIATE transactions let one writer in at a time, so a second request with the key sees
    the first one's row committed, and replays it.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        (taken,) = cursor.fetchone()
    if not taken:
        raise IdempotencyKeyInUse()


def _replay(key, digest):
    record = IdempotencyKey.objects.get(key=key)
    if not hmac.compare_digest(record.fingerprint, digest):
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request.", field="Idempotency-Key")
    if record.response_body is None:  # cannot happen: the row and its response commit together
        raise IdempotencyKeyInUse()
    return record.response_body
