"""The facade refuses what it must not pass on, and answers nginx's own errors as the contract says.

A path an upstream could read past its prefix (an encoded slash or dot segment: proxy_pass sends
the URI as the client wrote it) is a 400 from the facade that no upstream ever sees; every error
nginx makes itself (400, 405, 413, 414, 431, ...) is JSON under /api/ and HTML elsewhere, with
X-Served-By: facade, X-Request-ID and the security headers; the security headers come once on
every answer, the upstreams' included. Sent with http.client (or a socket), not requests: urllib3
would resolve the dot segments itself.
"""

import http.client
import json
import socket
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
UPSTREAMS = ("monolith", "catalog", "payments", "relay")

# The reproductions and their relatives: each would leave /api/<prefix>/ upstream.
ESCAPING_PATHS = [
    "/api/payments/..%2F..%2Fops/payments/",
    "/api/payments/..%2f..%2fops/faults/",
    "/api/catalog/..%2F..%2Fadmin/",
    "/api/payments/%2e%2e/%2e%2e/ops/faults/",
    "/api/payments/.%2E/.%2e/ops/payments/",
    "/api/payments/..%252F..%252Fops/payments/",  # double-encoded
    "/api/payments/..%5C..%5Cops/payments/",  # encoded backslash
    "/api/payments/..\\..\\ops/payments/",  # backslash
    "/api/catalog/../../admin/",  # literal dot segments: nginx routes on /admin/, but sends these on
    "/api/catalog/products/./",
    "/api/catalog/products/%00/",  # NUL
    "/api/orders/%0d%0aX-Injected:%20yes/",  # control bytes
    "/api/catalog/products/?q=%00",  # a NUL in the query too
]


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self):
        return json.loads(self.body)


def send(url: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> Answer:
    """One request with the path exactly as given."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def send_raw(url: str, request: bytes) -> Answer:
    """Bytes no HTTP client would send (a NUL in the request line), and the answer parsed."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = Message()
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def assert_the_facade_answered(answer: Answer, status: int, form: str) -> None:
    assert answer.status == status, answer.body[:300]
    assert answer.headers.get_all("X-Served-By") == ["facade"]
    assert len(answer.headers.get_all("X-Request-ID")) == 1
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get_all(name) == [value], name
    [policy] = answer.headers.get_all("Content-Security-Policy")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["Cache-Control"] == "no-store"
    if form == "json":
        assert answer.headers["Content-Type"] == "application/json"
        assert set(answer.json()) == {"detail", "code"}
        assert answer.json()["detail"]
    else:
        assert answer.headers["Content-Type"].startswith("text/html")
        assert answer.headers["X-Request-ID"].encode() in answer.body


def logged(shop, process: str, fragment: str, within: float = 5) -> list[str]:
    """process's log lines with fragment, waiting a little for the facade's (through a pipe and honcho)."""
    deadline = time.monotonic() + within
    while True:
        lines = [line for line in shop.lines_of(process) if fragment in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize("path", ESCAPING_PATHS)
def test_a_path_that_could_leave_its_prefix_is_refused_before_any_upstream(shop, path):
    request_id = f"e2e-path-{uuid.uuid4()}"

    answer = send(shop.url, "GET", path, {"X-Request-ID": request_id, "Accept": "*/*"})

    assert_the_facade_answered(answer, 400, "json")
    # bad_request: nginx itself found the path malformed (a NUL), before it read the headers and
    # so the client's request id.
    assert answer.json()["code"] in ("bad_path", "bad_request")
    if answer.json()["code"] == "bad_path":
        assert answer.headers["X-Request-ID"] == request_id
    request_id = answer.headers["X-Request-ID"]
    # The facade had it (the fault happened), and no process behind it did.
    [line] = logged(shop, "facade", f"request_id={request_id}")
    assert '" 400 ' in line and "upstream=- " in line
    for upstream in UPSTREAMS:
        assert logged(shop, upstream, request_id, within=0) == [], upstream


def test_an_escaping_path_outside_the_api_gets_a_page(shop):
    answer = send(shop.url, "GET", "/products/COF-1/..%2F..%2Fadmin/", {"Accept": BROWSER_ACCEPT})

    assert_the_facade_answered(answer, 400, "html")
    assert b"This address is not one the shop has" in answer.body


@pytest.mark.parametrize(
    "path",
    [
        "/api/catalog/products/?q=a%2Fb%2e%2e%5C",  # the query may hold what the path may not
        "/products/?q=..%2F..",
        "/accounts/login/?next=%2Forders%2F",
    ],
)
def test_what_only_looks_like_an_escape_passes(shop, path):
    answer = send(shop.url, "GET", path, {"Accept": BROWSER_ACCEPT})

    assert answer.status == 200
    assert answer.headers.get_all("X-Served-By") == ["monolith"]


LONG = "a" * 9000  # over nginx's 8 KB buffer for a request line or a header


@pytest.mark.parametrize(
    "method, path, headers, body, status, form, code",
    [
        ("TRACE", "/api/orders/", {}, None, 405, "json", "method_not_allowed"),
        ("TRACE", "/", {"Accept": BROWSER_ACCEPT}, None, 405, "html", "method_not_allowed"),
        ("TRACE", "/", {"Accept": "application/json"}, None, 405, "json", "method_not_allowed"),
        (
            "POST",
            "/api/orders/",
            {"Content-Type": "application/json"},
            b"{" + b" " * 1_100_000 + b"}",
            413,
            "json",
            "request_too_large",
        ),
        (
            "POST",
            "/cart/add/",
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": BROWSER_ACCEPT},
            b"sku=" + b"a" * 1_100_000,
            413,
            "html",
            "request_too_large",
        ),
        ("GET", f"/api/catalog/products/?q={LONG}", {}, None, 414, "json", "uri_too_long"),
        ("GET", f"/products/?q={LONG}", {"Accept": BROWSER_ACCEPT}, None, 414, "html", "uri_too_long"),
        ("GET", "/api/catalog/products/", {"Cookie": f"big={LONG}"}, None, 431, "json", "headers_too_large"),
        (
            "GET",
            "/products/",
            {"Cookie": f"big={LONG}", "Accept": BROWSER_ACCEPT},
            None,
            431,
            "html",
            "headers_too_large",
        ),
    ],
    ids=[
        "TRACE api",
        "TRACE page",
        "TRACE Accept json",
        "413 api",
        "413 form",
        "414 api",
        "414 page",
        "431 api",
        "431 page",
    ],
)
def test_nginx_s_own_errors_follow_the_contract(shop, method, path, headers, body, status, form, code):
    answer = send(shop.url, method, path, headers, body)

    assert_the_facade_answered(answer, status, form)
    if form == "json":
        assert answer.json()["code"] == code
    if status == 405:
        assert "GET" in answer.headers["Allow"] and "TRACE" not in answer.headers["Allow"]


@pytest.mark.parametrize(
    "line, form",
    [
        (b"GET /api/catalog/\x00 HTTP/1.1", "json"),
        (b"GET /products/\x00 HTTP/1.1", "html"),
        (b"GET /api/catalog/\x01 HTTP/1.1", "json"),
        (b"NOT HTTP AT ALL", "html"),
    ],
)
def test_a_malformed_request_line_gets_a_400_in_the_format_of_its_path(shop, line, form):
    answer = send_raw(shop.url, line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    assert_the_facade_answered(answer, 400, form)


@pytest.mark.parametrize("path", ["/", "/api/catalog/products/", "/admin/login/", "/api/docs/"])
def test_every_answer_has_the_security_headers_once(shop, path):
    answer = send(shop.url, "GET", path, {"Accept": BROWSER_ACCEPT})

    assert answer.status == 200
    assert answer.headers.get_all("X-Served-By") == ["monolith"]
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get_all(name) == [value], name
    assert len(answer.headers.get_all("Content-Security-Policy")) == 1
    assert "Retry-After" not in answer.headers
    assert len(answer.headers.get_all("Allow") or []) <= 1  # DRF's own, on an API view
