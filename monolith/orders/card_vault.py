"""The card a payment attempt needs until it is final, sealed while it waits in the database.

Fernet (the `cryptography` package: AES-128-CBC with an HMAC, and a timestamp) under a key
derived from SECRET_KEY: a database dump without the settings does not give the card away. The
orders context empties the sealed card as soon as the payment is final (outbox.payment_settle).
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet():
    digest = hashlib.sha256(b"strangler-shop card vault:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(card: dict) -> str:
    return _fernet().encrypt(json.dumps(card, sort_keys=True).encode()).decode()


def unseal(sealed: str) -> dict:
    """The card; ValueError if the seal was made under another SECRET_KEY or tampered with."""
    try:
        return json.loads(_fernet().decrypt(sealed.encode()))
    except InvalidToken:
        raise ValueError("The sealed card cannot be opened with this SECRET_KEY.") from None
