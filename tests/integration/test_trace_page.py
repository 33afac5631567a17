"""The staff page /staff/traces/<id>/: the waterfall of a request, read from the run folder's span files,
and the links to it from the page footer and the order page."""

from decimal import Decimal

import pytest
from django.test import Client
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from monolith.core import tracing
from monolith.orders.models import Order, OrderPayment

REQUEST_ID = "feedc0defeedc0defeedc0defeedc0de"


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_RUN_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def traced_checkout(run_dir):
    """A checkout's spans in the run folder, as the monolith's exporter writes them; its trace id."""
    provider = TracerProvider(resource=Resource.create({"service.name": "monolith", "process.pid": 7}))
    provider.add_span_processor(SimpleSpanProcessor(tracing.JsonLinesExporter(run_dir / "traces" / "monolith-7.jsonl")))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span(
            "POST checkout/", kind=SpanKind.SERVER, attributes={tracing.REQUEST_ID: REQUEST_ID}
        ) as server,
        tracer.start_as_current_span(
            "INSERT", kind=SpanKind.CLIENT, attributes={"db.statement": 'INSERT INTO "orders_order" ("number")'}
        ),
    ):
        pass
    return format(server.get_span_context().trace_id, "032x")


@pytest.fixture
def staff(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("by", ["request id", "trace id"])
def test_the_staff_page_draws_the_waterfall_of_a_request_or_a_trace(staff, traced_checkout, by):
    ident = REQUEST_ID if by == "request id" else traced_checkout

    response = staff.get(f"/staff/traces/{ident}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-testid="trace-id">{traced_checkout}<' in page
    assert "1 process (monolith)" in page and "1 SQL statement" in page
    assert page.index("POST checkout/") < page.index("INSERT INTO &quot;orders_order&quot;")
    assert page.count('<rect class="bar-monolith"') == 2
    assert "<script" not in page and "http://" not in page.split("<main", 1)[1]  # no CDN, no script


def test_an_unknown_id_is_a_404_that_says_why(staff, run_dir):
    response = staff.get("/staff/traces/nothing-like-it/")

    assert response.status_code == 404
    assert 'data-testid="no-trace"' in response.content.decode()


def test_the_staff_page_is_for_staff_only(customer, run_dir):
    anonymous = Client().get(f"/staff/traces/{REQUEST_ID}/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next=/staff/traces/{REQUEST_ID}/"

    client = Client()
    client.force_login(customer)
    assert client.get(f"/staff/traces/{REQUEST_ID}/").status_code == 403


def test_the_footer_links_the_request_id_to_its_trace_for_staff_only(staff, customer, product):
    page = staff.get("/", HTTP_X_REQUEST_ID="abc123").content.decode()
    assert '<a href="/staff/traces/abc123/" title="its trace"><code data-testid="request-id">abc123</code></a>' in page

    client = Client()
    client.force_login(customer)
    assert "/staff/traces/" not in client.get("/", HTTP_X_REQUEST_ID="abc123").content.decode()


def test_the_order_page_links_each_traced_payment_to_its_checkout_trace_for_staff(staff, staff_user, traced_checkout):
    order = Order.objects.create(
        user=staff_user,
        email="ada@example.com",
        shipping_name="Ada",
        shipping_line1="1 Row",
        shipping_city="London",
        shipping_postal_code="N1",
        shipping_country="GB",
        total=Decimal("12.50"),
        currency="EUR",
    )
    OrderPayment.objects.create(
        order=order,
        idempotency_key="k1",
        card_last4="4242",
        status="succeeded",
        trace_context=f"00-{traced_checkout}-00f067aa0ba902b7-01",
    )
    OrderPayment.objects.create(order=order, idempotency_key="k2", card_last4="0002", status="failed")

    page = staff.get(f"/orders/{order.number}/").content.decode()

    assert page.count('data-testid="payment-trace"') == 1
    assert f'href="/staff/traces/{traced_checkout}/" data-testid="payment-trace"' in page
