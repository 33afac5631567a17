"""Who an order belongs to: a signed-in customer, or else the browser session that placed it."""

import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    """Who an order belongs to: a signed-in user, or else a browser session's shopper id."""

    user: object = None
    shopper_id: str = ""

    @classmethod
    def from_request(cls, request):
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, shopper_id=shopper_id(request.session))


def shopper_id(session):
    """A random id for this browser, kept in its session, that anonymous orders belong to."""
    if "shopper_id" not in session:
        session["shopper_id"] = secrets.token_hex(16)
    return session["shopper_id"]
