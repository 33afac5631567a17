"""Fuzz the monolith's API against its own OpenAPI document (/api/schema/) with Schemathesis.

Every operation in the document gets a bounded number of generated requests, valid and
invalid, sent in-process to the WSGI application as the staff user `admin` (HTTP Basic,
through the document's `basicAuth` scheme, so writes are exercised too). Schemathesis's
default checks then hold each response to the document: no 5xx, a documented status
code, content type, headers and body; invalid input refused with a 4xx; and an
operation that declares authentication must refuse a request without it.

Each generated request runs in a savepoint that is rolled back afterwards, so every
example meets the same small seeded shop: Hypothesis can replay and shrink a failure
only when the same request finds the same data.

Knobs: FUZZ_MAX_EXAMPLES (default 50 generated requests per operation, on top of
Schemathesis's fixed boundary cases). The run is derandomized, so CI sends the same
requests every time; FUZZ_RANDOM=1 explores new ones. The whole run takes about 25 s.
"""

import copy
import json
import os
import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import RequestFactory
from django.urls import resolve
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30WriteValidator
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData

from monolith.catalog import services as catalog_services
from monolith.catalog.models import Category
from monolith.orders import services as order_services
from monolith.orders.owner import Owner
from tests.conftest import DECLINED_CARD, GOOD_CARD, NO_FUNDS_CARD, SHIPPING

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))


def _served_schema():
    """The document GET /api/schema/ serves, taken from the view itself.

    It is loaded at import, so that pytest gets one test per operation, and that is
    before the test database exists. Through the WSGI handler the request would open
    a transaction (ATOMIC_REQUESTS); calling the resolved view skips only that
    wrapper, and the schema view reads no data.
    """
    request = RequestFactory().get("/api/schema/", {"format": "json"})
    match = resolve(request.path)
    response = match.func(request, *match.args, **match.kwargs)
    response.render()
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


SCHEMA_DOCUMENT = _served_schema()

CONFIG = schemathesis.Config.from_dict(
    {
        # The document's own scheme, so Schemathesis knows which credentials it sends
        # and can check that each operation declaring authentication enforces it.
        "auth": {"openapi": {"basicAuth": {"username": "admin", "password": "admin"}}},
        "operations": [
            {
                # positive_data_acceptance wants every schema-valid request to succeed.
                # A write here is refused with a 400 that names the field for rules no
                # OpenAPI schema can state: the sku or category must exist, the card
                # must pass the Luhn check and not be expired, the currency must be the
                # shop's, a sku never changes, an amount is at most what is left to
                # refund. Refusing those is the contract ("errors are JSON with a 4xx
                # and say which field is wrong"), not a defect. Reads keep the check:
                # a query the document allows must not be refused.
                "include-method": ["POST", "PATCH", "DELETE"],
                "checks": {"positive_data_acceptance": {"enabled": False}},
            }
        ],
    }
)
schema = schemathesis.openapi.from_dict(SCHEMA_DOCUMENT, config=CONFIG)
schema.app = get_wsgi_application()  # requests go in-process, as with openapi.from_wsgi()


def test_the_fuzzed_schema_is_the_one_the_full_stack_serves(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json() == SCHEMA_DOCUMENT


# What the seeded shop holds, filled in by the `shop` fixture before any request is
# generated; the hooks below draw from it, so that lookups and writes sometimes reach
# real objects instead of always answering 404 or "unknown sku".
SEEDED = {}


@pytest.fixture
def shop(db, staff_user, make_product, category):
    """Two categories with products (one out of stock, one inactive), an empty category,
    a held stock reservation, and an unpaid, a paid and a declined order, all the staff
    user's: the requests authenticate as that user."""
    tea = catalog_services.category_create(slug="tea", name="Tea")
    catalog_services.category_create(slug="empty", name="Nothing here yet")
    make_product("COF-0001", price="12.50", stock=500)
    make_product("COF-0002", price="9.00", stock=0)
    make_product("TEA-0001", price="4.20", stock=300, cat=tea)
    make_product("TEA-0002", price="6.00", stock=10, cat=tea, is_active=False)
    catalog_services.stock_reserve(reservation_id="fuzz-held", lines=[{"sku": "TEA-0001", "quantity": 1}])

    owner = Owner(user=staff_user)
    lines = [{"sku": "COF-0001", "quantity": 2}, {"sku": "TEA-0001", "quantity": 1}]
    unpaid, paid, declined = (
        order_services.order_place(owner=owner, email="ada@example.com", shipping=SHIPPING, lines=lines)
        for _ in range(3)
    )
    payment = order_services.order_pay(order=paid, card=GOOD_CARD, idempotency_key="fuzz-paid").payment
    order_services.order_pay(order=declined, card=DECLINED_CARD, idempotency_key="fuzz-declined")

    SEEDED.update(
        slug=list(Category.objects.values_list("slug", flat=True)),
        sku=["COF-0001", "COF-0002", "TEA-0001", "TEA-0002"],
        reservation_id=["fuzz-held", unpaid.reservation_id, paid.reservation_id],
        number=[unpaid.number, paid.number, declined.number],
        payment_id=[str(payment.id)],
        card_number=[card["number"] for card in (GOOD_CARD, DECLINED_CARD, NO_FUNDS_CARD)],
    )
    yield SEEDED
    SEEDED.clear()


@pytest.fixture
def connection_kept_open():
    """Keep the database connection across requests, as Django's test client does.

    The WSGI handler closes "old" connections when a request starts and ends; one in
    the middle of the test's transaction counts as old (autocommit is off), so the
    next request would find it closed and the seeded data gone.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # the first request of a run also warms Django up
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,  # no saved failures replayed first: a derandomized run is reproducible as it is
    # `shop` is function-scoped on purpose: the savepoint below resets it for each example.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_its_schema(case, shop, connection_kept_open):
    with transaction.atomic():
        try:
            case.call_and_validate()
        finally:
            transaction.set_rollback(True)


# --- Failures that are not defects ---------------------------------------------------

FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@schema.hook
def filter_failure(context, failure, case, response):
    """Drop a failure only when it comes from one of these, and keep every other:

    - "Schema-violating request accepted", where the request becomes valid once read
      the way DRF documents that it reads input: a JSON number for a string field is
      its decimal text ({"name": 0} is "0"; true, lists and objects are refused); in a
      form, an empty field that is not required is "not given" (how an HTML form says
      it); and a form can only carry an object, so a body that is not one (null, a
      number) arrives as a malformed form without fields, read as an empty one.
      Nothing is lost or misread, and the contract does not ask for strict types.
    - "Schema-violating request accepted", where the invalid query parameters arrive as
      text that is valid after all (a generated `false` for a list of skus is the sku
      "false"), or empty: an empty optional parameter (?ordering=, ?page=) means "not
      given", which is what an HTML form sends for an input left blank (the product
      list page submits its filter form to the same FilterSet).
    - "Schema-violating request accepted", where the only fault is a query parameter the
      operation does not declare: an API ignores what it does not know in the query, as
      DRF does and as links carrying tracking parameters need. (Schemathesis mostly makes
      this exception itself; made here so that it holds whatever else a case carries.)
    - "Schema-valid request rejected" with a 400 naming a query parameter that holds a
      NUL character: PostgreSQL cannot store one, so Django's form fields refuse it,
      and a 400 naming the field is what the contract asks for.
    """
    if isinstance(failure, AcceptedNegativeData):
        invalid_at = getattr(case.meta.phase.data, "parameter_location", None)
        if invalid_at == ParameterLocation.QUERY:
            names = _invalid_parameters(case)
            if not names and _undeclared_query_parameters(case):
                return False
            return not (names and all(_query_text_is_valid(case, name) for name in names))
        body_schema = _request_body_schema(case)
        if invalid_at != ParameterLocation.BODY or body_schema is None:
            return True
        return not OAS30WriteValidator(body_schema).is_valid(_as_drf_reads(body_schema, case))
    if isinstance(failure, RejectedPositiveData) and response.status_code == 400:
        with_nul = {name for name, value in (case.query or {}).items() if "\x00" in str(value)}
        return not with_nul & set(_json_or_empty(response))
    return True


def _undeclared_query_parameters(case):
    declared = case.operation.get_parameter_set(ParameterLocation.QUERY)
    return [name for name in case.query or {} if name not in declared]


def _invalid_parameters(case):
    data = case.meta.phase.data
    names = {mutation.parameter for mutation in getattr(data, "mutations", ())} | {data.parameter}
    return names - {None}


def _query_text_is_valid(case, name):
    """Whether the text the server receives for query parameter `name` is valid for it."""
    operation = SCHEMA_DOCUMENT["paths"][case.operation.path][case.method.lower()]
    parameter = next((p for p in operation.get("parameters", ()) if p["in"] == "query" and p["name"] == name), None)
    if parameter is None:
        return False
    value = case.query.get(name)
    if isinstance(value, list):  # a repeated parameter: Django's QueryDict.get() reads the last one
        value = value[-1] if value else ""
    text = _as_query_text(value)
    if text == "":
        return not parameter.get("required", False)
    param_schema = parameter["schema"]
    if param_schema.get("type") == "array":
        return all(_text_is_valid(param_schema.get("items", {}), item) for item in text.split(","))
    return _text_is_valid(param_schema, text)


def _as_query_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return ""  # an object or a nested list serialises to nothing a form field reads
    return str(value)


def _text_is_valid(node_schema, text):
    kind = node_schema.get("type")
    try:
        value = {"integer": int, "number": float, "boolean": {"true": True, "false": False}.__getitem__}.get(kind, str)(
            text
        )
    except (KeyError, ValueError):
        return False
    return OAS30WriteValidator(node_schema).is_valid(value)


def _as_drf_reads(body_schema, case):
    if case.media_type in FORM_MEDIA_TYPES:
        if not isinstance(case.body, dict):
            return {}
        required = set(body_schema.get("required", ()))
        return {key: value for key, value in case.body.items() if value != "" or key in required}
    return _numbers_as_text(body_schema, case.body)


def _numbers_as_text(node_schema, value):
    if node_schema.get("type") == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        properties = node_schema.get("properties", {})
        return {key: _numbers_as_text(properties.get(key, {}), item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_as_text(node_schema.get("items", {}), item) for item in value]
    return value


def _json_or_empty(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _request_body_schema(case):
    operation = SCHEMA_DOCUMENT["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    body = operation.get("requestBody", {}).get("content", {}).get(case.media_type)
    return _inline_refs(body["schema"]) if body else None


def _inline_refs(node):
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            name = node["$ref"].removeprefix("#/components/schemas/")
            return _inline_refs(SCHEMA_DOCUMENT["components"]["schemas"][name])
        return {key: _inline_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item) for item in node]
    return node


# --- Steering generation towards the seeded objects -----------------------------------
#
# A hook swaps in a seeded value only where the generated one is already valid for the
# schema, so a request that Schemathesis meant to be invalid stays invalid.

PATH_SHAPES = {
    "sku": re.compile(r"^[A-Za-z0-9-]{1,32}$"),
    "slug": re.compile(r"^[-a-zA-Z0-9_]+$"),
    "number": re.compile(r"^[A-Z0-9]{1,16}$"),
    "reservation_id": re.compile(r"^[A-Za-z0-9._:-]{1,64}$"),
    "payment_id": re.compile(r"^[0-9a-fA-F-]{36}$"),
}


def _or_seeded(value, name, valid):
    if not valid or not SEEDED.get(name):
        return st.just(value)
    return st.one_of(st.just(value), st.sampled_from(SEEDED[name]))


def _is_short_string(value, max_length):
    return isinstance(value, str) and 1 <= len(value) <= max_length


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    strategy = st.just(dict(path_parameters))
    for name, value in path_parameters.items():
        shape = PATH_SHAPES.get(name)
        valid = shape is not None and isinstance(value, str) and shape.match(value) is not None
        strategy = strategy.flatmap(
            lambda params, name=name, valid=valid: _or_seeded(params[name], name, valid).map(
                lambda chosen, params=params, name=name: {**params, name: chosen}
            )
        )
    return strategy


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    strategy = st.just(copy.deepcopy(body))
    if _is_short_string(body.get("category"), 64):
        strategy = strategy.flatmap(
            lambda b: _or_seeded(b["category"], "slug", True).map(lambda slug, b=b: {**b, "category": slug})
        )
    if isinstance(body.get("card"), dict) and _is_short_string(body["card"].get("number"), 32):
        strategy = strategy.flatmap(
            lambda b: _or_seeded(b["card"]["number"], "card_number", True).map(
                lambda number, b=b: {**b, "card": {**b["card"], "number": number}}
            )
        )
    lines = body.get("lines")
    if isinstance(lines, list):
        for index, line in enumerate(lines):
            if isinstance(line, dict) and _is_short_string(line.get("sku"), 32):
                strategy = strategy.flatmap(lambda b, index=index: _with_line_sku(b, index))
    return strategy


def _with_line_sku(body, index):
    def replace(sku):
        lines = list(body["lines"])
        lines[index] = {**lines[index], "sku": sku}
        return {**body, "lines": lines}

    return _or_seeded(body["lines"][index]["sku"], "sku", True).map(replace)
