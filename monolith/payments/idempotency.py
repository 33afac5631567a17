"""Idempotency keys, as Stripe promises them: one key, one outcome.

The key row is inserted in the same transaction as the work it guards. A second
request with the same key blocks on the unique index until the first commits,
then finds the stored response and replays it: two concurrent requests never
make two charges. Input that fails validation stores nothing (the transaction
rolls back), so a corrected retry with the same key is allowed.
"""

import hmac

from django.db import IntegrityError, transaction

from monolith.core.errors import ApplicationError, Conflict
from monolith.core.idempotency import fingerprint

from .models import IdempotencyKey


class IdempotencyMismatch(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def run_idempotent(*, key, payload, operation, restore):
    """Run `operation()` once per key; returns (its result, replayed).

    The result is kept as its snapshot (`result.as_snapshot()`, JSON); a replay gives back
    `restore(snapshot)`, the first request's result as it was then.
    """
    digest = fingerprint(payload)
    with transaction.atomic():
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


def _replay(key, digest):
    record = IdempotencyKey.objects.get(key=key)
    if not hmac.compare_digest(record.fingerprint, digest):
        raise IdempotencyMismatch("This Idempotency-Key was used with a different request.", field="Idempotency-Key")
    if record.response_body is None:  # only when the first request is still running
        raise Conflict("A request with this Idempotency-Key is still in progress.", code="idempotency_key_in_use")
    return record.response_body
