"""Contract tests: the same HTTP requests against the monolith and an extracted service, the same answers required.

What the suites share: the service token both processes are given, who a request is sent as, the
customer a service lacks, and how an answer is normalised before two are compared.
"""

import re

TOKEN = "contract-test-token"
CREDENTIALS = {
    "anonymous": {},
    "customer": {"auth": ("demo", "demo")},
    "wrong-password": {"auth": ("demo", "not-demo")},
    "staff": {"auth": ("admin", "admin")},
    "service": {"headers": {"Authorization": f"Bearer {TOKEN}"}},
    "wrong-token": {"headers": {"Authorization": "Bearer not-the-contract-test-token"}},
}
SERVICE_ENV = {"SERVICE_TOKENS": f"monolith={TOKEN}"}
MASKED = ("updated_at", "created_at")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def add_customer(server):
    """The customer demo/demo, which the monolith's seed_shop makes and a service's seed does not."""
    server.manage(
        "shell",
        "--command",
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user('demo', 'demo@example.com', 'demo')",
    )


def normalised(value, base_url, uuids=None):
    """`value` (a JSON body) with timestamps masked and `base_url` in links written http://<host>.

    Given `uuids` (a dict kept across one case's answers), each UUID becomes <uuid-N>, N the order
    in which it first appeared: ids made by two databases compare equal, and a refund still
    visibly points at its payment.
    """
    if isinstance(value, dict):
        return {key: "<masked>" if key in MASKED else normalised(item, base_url, uuids) for key, item in value.items()}
    if isinstance(value, list):
        return [normalised(item, base_url, uuids) for item in value]
    if isinstance(value, str):
        value = value.replace(base_url, "http://<host>")
        if uuids is not None:
            value = UUID.sub(lambda match: uuids.setdefault(match.group(), f"<uuid-{len(uuids) + 1}>"), value)
        return value
    return value
