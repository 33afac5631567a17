"""Payment records as rows, for moving the payments context between databases (stage 1 ⇄ 2).

Payments, their refunds and their idempotency keys, each as a JSON-ready row keyed by an id that
survives the move (a payment's and a refund's UUID, a key's key). export_rows() reads them all;
import_rows() writes rows as they are, timestamps included, creating or updating by key and never
deleting. The monolith has the same module (monolith/payments/transfer.py); this one is behind
/ops/payments/ (ops/api.py), so that the monolith's `manage.py set_stage` can move the records
either way and verify them row by row (with the monolith's checksum, monolith/strangler/moves.py).
"""

from django.db import transaction
from django.utils.dateparse import parse_datetime

from .models import IdempotencyKey, Payment, Refund

# Kind name -> (model, key field, fields), parents before children.
KINDS = {
    "payment": (
        Payment,
        "id",
        (
            "id",
            "order_number",
            "amount",
            "currency",
            "status",
            "failure_code",
            "amount_refunded",
            "card_brand",
            "card_last4",
            "created_at",
            "updated_at",
        ),
    ),
    "refund": (Refund, "id", ("id", "payment_id", "amount", "reason", "created_at")),
    "idempotency_key": (
        IdempotencyKey,
        "key",
        ("key", "fingerprint", "response_status", "response_body", "created_at"),
    ),
}
TIMESTAMPS = ("created_at", "updated_at")


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str, dict, list)):
        return value
    return str(value)  # Decimal, UUID


def export_rows():
    """{kind: {key: row}} of every payment record."""
    return {
        kind: {
            str(getattr(obj, key)): {f: _plain(getattr(obj, f)) for f in fields} for obj in model.objects.order_by(key)
        }
        for kind, (model, key, fields) in KINDS.items()
    }


@transaction.atomic
def import_rows(rows):
    """Write {kind: [row, ...]} as given, creating or updating each by its key; returns the count."""
    written = 0
    for kind, (model, key, fields) in KINDS.items():
        for row in rows.get(kind, []):
            values = {f: (parse_datetime(row[f]) if f in TIMESTAMPS else row[f]) for f in fields if f != key}
            # update() and a follow-up update() keep the given timestamps (save() would set its own).
            if not model.objects.filter(**{key: row[key]}).update(**values):
                model.objects.create(**{key: row[key]}, **values)
                model.objects.filter(**{key: row[key]}).update(**{f: values[f] for f in TIMESTAMPS if f in values})
            written += 1
    return written
