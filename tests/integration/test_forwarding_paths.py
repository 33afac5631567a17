"""No path trick gets a request past a moved prefix to another path of the service behind it (issue 10).

A real monolith at stage 2, with real catalog and payments services behind it (tests/servers.py).
`GET /api/payments/..%2F..%2Fops/payments/` reaches Django as `/api/payments/../../ops/payments/`:
it starts with a prefix the monolith passes on, and the HTTP client used to resolve the `..`, so
the payments service answered its /ops/payments/ (every payment record). Sent here as raw bytes,
with the service token an attacker may know, it must be refused by the monolith, and the
services' access logs must show that nothing reached their /ops/ or /admin/.
"""

import http.client
import json
import uuid

import pytest
import requests

from tests.servers import CATALOG, MONOLITH, PAYMENTS, free_port, serve

TOKEN = f"forwarding-{uuid.uuid4().hex}"
TRICKS = [
    "/api/payments/..%2F..%2Fops/payments/",
    "/api/payments/../../ops/payments/",
    "/api/payments/%2e%2e/%2E%2E/ops/faults/",
    "/api/payments/./..%2f..%2fops/payments/?page=1",
    "/api/payments/%2E%2E%2F%2E%2E%2Fops%2Fpayments%2F",
    "/api/catalog/..%2F..%2Fadmin/",
    "/api/orders/..%2F..%2Fapi/payments/..%2F..%2Fops/payments/",
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """(monolith, catalog, payments): the monolith at stage 2, both services trusting its token."""
    logs = tmp_path_factory.mktemp("forwarding")
    services = {"SERVICE_TOKENS": f"monolith={TOKEN}"}
    with (
        serve(CATALOG, port=free_port(), name="forwarding_catalog", log_dir=logs, env=services) as catalog,
        serve(PAYMENTS, port=free_port(), name="forwarding_payments", log_dir=logs, env=services) as payments,
    ):
        env = {
            "CATALOG_SERVICE_URL": catalog.url,
            "PAYMENTS_SERVICE_URL": payments.url,
            "CATALOG_SERVICE_TOKEN": TOKEN,
            "PAYMENTS_SERVICE_TOKEN": TOKEN,
        }
        at_stage_2 = ("from monolith.strangler.services import stage_record; stage_record(number=2)",)
        with serve(
            MONOLITH,
            port=free_port(),
            name="forwarding_monolith",
            log_dir=logs,
            env=env,
            setup=lambda server: server.manage("shell", "-c", *at_stage_2),
        ) as monolith:
            yield monolith, catalog, payments


def raw_get(server, path):
    """GET `path` exactly as written (no client normalises it): (status, headers, body)."""
    host, port = server.address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def internal_lines(service):
    return [line for line in service.log().splitlines() if "/ops/" in line or "/admin/" in line]


def test_the_monolith_forwards_its_moved_prefixes_and_the_internals_are_there_to_be_reached(shop):
    # What makes the tricks below dangerous: the monolith passes /api/payments/ on at stage 2,
    # and with the token the service's /ops/payments/ answers every payment record.
    monolith, _, payments = shop
    status, headers, _ = raw_get(monolith, "/api/payments/?order_number=none")
    assert (status, headers["X-Served-By"]) == (200, "payments")
    direct = requests.get(f"{payments.url}/ops/payments/", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert direct.status_code == 200 and "payment" in direct.json()
    # And the service's access log shows such a request: the checks below can see one.
    assert payments.log_lines_with("/ops/payments/", until=lambda line: True)


@pytest.mark.parametrize("path", TRICKS)
def test_a_path_with_dot_segments_is_refused_and_reaches_no_service(shop, path):
    monolith, catalog, payments = shop
    before = {"catalog": internal_lines(catalog), "payments": internal_lines(payments)}

    status, headers, body = raw_get(monolith, path)

    assert status == 400, body[:500]
    assert headers["X-Served-By"] == "monolith"
    answer = json.loads(body)
    assert answer["code"] == "path_not_normalised"
    assert "'.' or '..' segment" in answer["detail"] and answer["path"] == [answer["detail"]]
    assert b"card_last4" not in body and b"idempotency" not in body
    # The services saw nothing new under /ops/ or /admin/. gunicorn writes an access line after
    # its answer: once a marker request sent afterwards is in the log, so would this one be.
    for service in (catalog, payments):
        marker = f"/healthz?marker={uuid.uuid4().hex}"
        assert raw_get(service, marker)[0] == 200
        assert service.log_lines_with(marker, until=lambda line: True)
    assert {"catalog": internal_lines(catalog), "payments": internal_lines(payments)} == before


def test_a_dot_segment_outside_the_api_is_refused_with_the_html_page(shop):
    monolith, _, _ = shop
    host, port = monolith.address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/products/../admin/payments/", headers={"Accept": "text/html"})
    response = connection.getresponse()

    assert response.status == 400
    assert response.getheader("Content-Type").startswith("text/html")
    assert "Bad request" in response.read().decode()
    connection.close()
