"""Fuzz the running shop through its facade at stages 0 and 2 with Schemathesis, every check on.

tests/fuzz/test_schemathesis.py fuzzes the monolith in-process; this one sends real HTTP requests to
`shop up` (nginx, the monolith, and at stage 2 the catalog and payments services behind it), as an
outside tester would, against the document the facade serves at /api/schema/ (at stage 2 its
/api/catalog/ and /api/payments/ operations are answered by the services). Every Schemathesis check
runs: no server error, every status code, content type, header and body as documented, invalid
input refused, valid input accepted, authentication enforced where declared.

"Valid request rejected" is allowed only for the rules a schema cannot state, each refused with a
4xx that names its field or code (ALLOWED_REJECTIONS below). Anything else fails the build.

Bounded: FACADE_FUZZ_MAX_EXAMPLES generated requests per operation (default 3, on top of the fixed
coverage cases), derandomized, so CI sends the same requests each time. Each stage's shop runs on
databases and free ports of its own.

Every request carries staff credentials of two of the document's schemes, each the cheap one for
one owner: a staff session (cookieAuth, signed in once, with its CSRF token), which the monolith
takes, and a service token (serviceToken, which may do what staff may do), which a service takes
when it owns the operation at the stage. HTTP Basic (basicAuth) would cost a full password hash per
request (about 0.5 s of CPU: half an hour of hashing for the two stages); Schemathesis still checks,
once per operation, that a request without credentials, and one with wrong credentials of every
scheme, is refused.

Every undeclared method (TRACE included) must be a 405 with `Allow`: the facade's own 405 carries it
with the facade's error pages (proxy/nginx.conf).
"""

import os
import secrets

import psycopg2
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.openapi.checks import RejectedPositiveData

from shopctl.background import BackgroundShop
from tests.e2e.conftest import _stage1_env, _start
from tests.fuzz import test_schemathesis as in_process

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("FACADE_FUZZ_MAX_EXAMPLES", "3"))

# Staff credentials, chosen before any shop runs (Schemathesis builds its coverage cases, credentials
# included, at collection). Each shop is given the service tokens (a variable in the environment wins
# over the run folder's secrets, shopctl/secrets.py), one for both services so that every request
# carries the same credentials, and its admin's session is given this session key once signed in
# (_sign_in). A CSRF token is the client's to choose, in its cookie and its header alike. The
# monolith takes the session first (the order of its authentication classes); a service, which knows
# no such session, takes the token.
TOKEN = secrets.token_urlsafe(32)
SERVICE_TOKENS = {"CATALOG_SERVICE_TOKEN": TOKEN, "PAYMENTS_SERVICE_TOKEN": TOKEN}
CSRF = secrets.token_hex(16)
STAFF = {
    "cookies": {"sessionid": secrets.token_hex(16), "csrftoken": CSRF},
    "headers": {"X-CSRFToken": CSRF, "Authorization": f"Bearer {TOKEN}"},
}

# Valid for the schema, refused by the server, and rightly: each a rule no OpenAPI schema can state.
# A 4xx whose JSON body names one of these fields or codes is allowed; any other rejection fails.
ALLOWED_REJECTIONS = {
    # The card: the Luhn check digit, and an expiry month and year not in the past.
    "number",
    "exp_year",
    "exp_month",
    # Uniqueness: a sku or slug already taken, an Idempotency-Key used with another body (422),
    # a reservation_id used for other lines.
    "sku",
    "slug",
    "Idempotency-Key",
    "idempotency_key_reused",
    "reservation_id",
    # Existence: an unknown sku, category, order, payment or reservation (404, or 400 naming it).
    "category",
    "unknown_sku",
    "not_found",
    "order_number",
    # State: not enough stock (409), an order or payment whose state forbids the action, a refund
    # larger than what is left, a category that still has products, repeated lines of one sku past the cap.
    "insufficient_stock",
    "conflict",
    "invalid_state",
    "amount",
    "lines",
}


@pytest.fixture(scope="module", params=[0, 2], ids=["stage0", "stage2"])
def facade(request, tmp_path_factory):
    stage = request.param
    run_dir = tmp_path_factory.mktemp(f"fuzz_stage{stage}")
    env = {**_stage1_env(f"shop_fuzz_stage{stage}"), "SHOP_RUN_DIR": str(run_dir)}
    # No throttle per user: the fuzz is one staff user sending as fast as the shop answers.
    env = {**env, **SERVICE_TOKENS, "API_USER_THROTTLE_RATE": ""}
    running = BackgroundShop(stage=stage, env=env, log_path=run_dir / "shop.log")
    try:
        _start(running)
        _sign_in(running, env["DATABASE_URL"])
        yield running
    finally:
        running.stop()


def _sign_in(shop, database_url):
    """Sign in as admin through the facade, then give the session the key STAFF names."""
    browser = requests.Session()
    login = f"{shop.url}admin/login/"
    browser.get(login, timeout=10).raise_for_status()
    signed_in = browser.post(
        login,
        data={"username": "admin", "password": "admin", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 302 and "sessionid" in browser.cookies, signed_in.text[:300]
    with psycopg2.connect(database_url) as database, database.cursor() as cursor:
        cursor.execute(
            "UPDATE django_session SET session_key = %s WHERE session_key = %s",
            [STAFF["cookies"]["sessionid"], browser.cookies["sessionid"]],
        )
        assert cursor.rowcount == 1
    database.close()


# The monolith's document, generated in-process when the module loads, so that pytest gets one test
# per operation and stage; the first test checks that the facade serves this very document.
SCHEMA_DOCUMENT = in_process._served_schema()
schema = schemathesis.openapi.from_dict(SCHEMA_DOCUMENT)


@schema.auth()
class StaffAuth:
    """STAFF's session, CSRF token and service token, on every request."""

    def get(self, case, ctx):
        return STAFF

    def set(self, case, data, ctx):
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


def test_the_fuzzed_document_is_the_one_the_facade_serves(facade):
    served = requests.get(f"{facade.url}api/schema/", params={"format": "json"}, timeout=10)

    assert served.status_code == 200
    assert served.json() == SCHEMA_DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,
    # `facade` is module-scoped: one shop per stage for every operation and example.
    suppress_health_check=list(HealthCheck),
)
def test_the_facade_answers_as_its_document_says(case, facade):
    case.call_and_validate(base_url=facade.url.rstrip("/"), timeout=30)


@schema.hook
def filter_failure(context, failure, case, response):
    """Keep every failure but a valid request refused for one of ALLOWED_REJECTIONS, and those the
    in-process fuzz explains (input DRF reads as valid: a JSON number for a decimal string, an empty
    optional query parameter; a NUL in a query parameter refused by name)."""
    if not in_process.filter_failure(context, failure, case, response):
        return False
    if not isinstance(failure, RejectedPositiveData) or not 400 <= response.status_code < 500:
        return True
    return not (_named(response) & ALLOWED_REJECTIONS)


def _named(response):
    """The fields and codes a JSON error body names, at any depth."""
    try:
        body = response.json()
    except ValueError:
        return set()
    names = set()
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            names |= set(node)
            names |= {value for key, value in node.items() if key == "code" and isinstance(value, str)}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names
