"""X-Request-ID: the client's own comes back and is in every access log; an insane one is replaced."""

import re
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_the_clients_request_id_comes_back_and_is_in_both_access_logs(shop):
    request_id = f"e2e-{uuid.uuid4()}"

    response = requests.get(f"{shop.url}api/catalog/products/", headers={"X-Request-ID": request_id}, timeout=10)

    assert response.status_code == 200
    assert response.raw.headers.getlist("X-Request-ID") == [request_id]
    assert '"GET /api/catalog/products/' in _logged_line(shop, "monolith", f"request_id={request_id}")
    assert '"GET /api/catalog/products/' in _logged_line(shop, "facade", f"request_id={request_id}")


@pytest.mark.parametrize("insane_id", ["has spaces in it", "x" * 300], ids=["spaces", "300 chars"])
def test_an_insane_request_id_is_replaced(shop, insane_id):
    response = requests.get(f"{shop.url}healthz", headers={"X-Request-ID": insane_id}, timeout=10)

    assert response.status_code == 200
    [returned_id] = response.raw.headers.getlist("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", returned_id), returned_id


def _logged_line(shop, process: str, fragment: str) -> str:
    # The line travels through a pipe and honcho before it reaches the log file.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in shop.lines_of(process):
            if fragment in line:
                return line
        time.sleep(0.1)
    recent = "\n".join(shop.lines_of(process)[-20:])
    pytest.fail(f"{process} logged no line with {fragment!r}; its last lines:\n{recent}")
