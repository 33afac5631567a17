"""The Idempotency-Key header: read, validate and document it in one place; and the fingerprint
that tells the same request from another one under the same key."""

import hashlib
import hmac
import json
import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_VALID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


def idempotency_key(request, *, required=True):
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise ValidationError(
                {HEADER: ["This header is required: a unique value, such as a UUID, per payment attempt."]}
            )
        return None
    if not _VALID.match(key):
        raise ValidationError({HEADER: ["Use 1 to 200 printable ASCII characters, without spaces."]})
    return key


def idempotency_parameter(*, required=True):
    return OpenApiParameter(
        HEADER,
        location=OpenApiParameter.HEADER,
        required=required,
        # _VALID above, as a schema: printable ASCII without spaces ("!" to "~").
        type={"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]{1,200}$"},
        description="A unique value per attempt (a UUID). Repeating it with the same body returns the "
        "first response again; with another body it is refused (422).",
    )


def mark_replay(response, replayed):
    if replayed:
        response[REPLAY_HEADER] = "true"
    return response


def fingerprint(payload) -> str:
    """An HMAC of the request, so that no card number is stored to compare a replay with."""
    message = json.dumps(payload, sort_keys=True, default=str).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
