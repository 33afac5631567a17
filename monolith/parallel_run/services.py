"""Recording a difference: never at the shopper's expense."""

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from log_request_id import local as request_local

from .models import ShadowDifference

logger = logging.getLogger(__name__)

# A product page holds 24 products: a remote error's local answer, or a long batch of skus, is
# cut to this many characters of JSON. A mismatch stores only the fields that differ, so it
# rarely comes near it.
MAX_VALUE_CHARS = 2000


def difference_record(*, method, arguments, kind, local, remote, fields=()):
    """Store one difference; a database error is logged, not raised, so the page is served all the same."""
    try:
        # A savepoint: a failed insert must not break the request's transaction (ATOMIC_REQUESTS).
        # The pitfall on the other side: a request whose transaction rolls back takes its differences with it.
        with transaction.atomic():
            return ShadowDifference.objects.create(
                method=method,
                arguments=truncated(arguments),
                kind=kind,
                fields=list(fields),
                local_value=truncated(local),
                remote_value=truncated(remote),
                request_id=(getattr(request_local, "request_id", None) or "")[:64],
            )
    except DatabaseError:
        logger.exception("Parallel run: could not record a %s difference in %s", kind, method)
        return None


def truncated(value):
    """`value`, or when its JSON is longer than MAX_VALUE_CHARS, {"truncated": true, "json": <its start>}."""
    text = json.dumps(value, cls=DjangoJSONEncoder)
    if len(text) <= MAX_VALUE_CHARS:
        return value
    return {"truncated": True, "json": text[:MAX_VALUE_CHARS]}
