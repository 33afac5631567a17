"""What every response carries (X-Served-By, X-Request-ID), JSON errors under /api/, and cookies of its own.

The catalog service's tests/test_http.py, adapted.
"""

import pytest

from payments_service.payments import selectors


def test_every_response_names_the_payments_service_and_carries_a_request_id(client, db):
    for url in ("/api/payments/", "/api/payments/nothing/", "/healthz", "/admin/login/", "/ops/faults/"):
        response = client.get(url)
        assert response["X-Served-By"] == "payments", url
        assert len(response["X-Request-ID"]) == 32, url  # made here: no one sent one


def test_the_facades_request_id_is_kept(client, db):
    response = client.get("/api/payments/", HTTP_X_REQUEST_ID="from-the-facade-123")

    assert response["X-Request-ID"] == "from-the-facade-123"


@pytest.mark.parametrize(
    "url",
    [
        "/api/payments/nothing-here/",
        "/api/payments/00000000-0000-0000-0000-000000000000/extra/",
        "/api/payments/a%20b/",
        "/api/catalog/products/",  # another prefix: never this service's, and JSON all the same
        "/api/",
    ],
)
def test_an_unknown_url_under_api_is_a_json_404(staff_api, url):
    response = staff_api.get(url)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unexpected_error_under_api_is_a_json_500_without_a_traceback(staff_api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug with a secret inside")

    monkeypatch.setattr(selectors, "payment_list", broken)

    response = staff_api.get("/api/payments/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}


def test_the_monoliths_session_cookie_is_left_alone(client, db):
    # Behind the facade both processes share a host, so the browser sends this service the
    # monolith's cookies. It must neither read them nor answer with a cookie that replaces them.
    client.cookies["sessionid"] = "signed-by-the-monolith:with-another-secret"
    client.cookies["csrftoken"] = "the-monoliths-csrf-token"

    for url in ("/api/payments/docs/", "/api-auth/login/", "/admin/login/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies, url


def test_the_browsable_api_login_uses_the_services_own_cookies(client, staff_user):
    page = client.get("/api-auth/login/")
    response = client.post(
        "/api-auth/login/",
        {"username": "admin", "password": "admin", "csrfmiddlewaretoken": page.context["csrf_token"]},
    )

    assert response.status_code == 302
    assert response["Location"] == "/api/payments/"
    assert "payments_sessionid" in response.cookies
    assert "payments_csrftoken" in client.cookies
    page = client.get("/api/payments/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page.context["user"] == staff_user
    assert "Payment List" in page.content.decode()  # the browsable API


def test_a_signed_in_browser_must_send_the_csrf_token_to_charge(staff_user, new_key):
    from django.test import Client

    from conftest import PAYMENT

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    refused = browser.post("/api/payments/", PAYMENT, content_type="application/json", HTTP_IDEMPOTENCY_KEY=new_key())

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
