"""What every response carries (X-Served-By, X-Request-ID), JSON errors under /api/, and cookies of its own."""

import pytest

from catalog_service.catalog import selectors


def test_every_response_names_the_catalog_and_carries_a_request_id(client, db):
    for url in ("/api/catalog/products/", "/api/catalog/nothing/", "/healthz", "/admin/login/"):
        response = client.get(url)
        assert response["X-Served-By"] == "catalog", url
        assert len(response["X-Request-ID"]) == 32, url  # made here: no one sent one


def test_the_facades_request_id_is_kept(client, db):
    response = client.get("/api/catalog/products/", HTTP_X_REQUEST_ID="from-the-facade-123")

    assert response["X-Request-ID"] == "from-the-facade-123"


@pytest.mark.parametrize(
    "url",
    [
        "/api/catalog/nothing-here/",
        "/api/catalog/products/COF-1/extra/",
        "/api/catalog/stock-reservations/a%20b/",
        "/api/orders/",  # another prefix: never this service's, and JSON all the same
        "/api/",
    ],
)
def test_an_unknown_url_under_api_is_a_json_404(client, db, url):
    response = client.get(url)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_unexpected_error_under_api_is_a_json_500_without_a_traceback(client, db, monkeypatch):
    def broken():
        raise RuntimeError("a bug with a secret inside")

    monkeypatch.setattr(selectors, "category_list", broken)

    response = client.get("/api/catalog/categories/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}


def test_the_monoliths_session_cookie_is_left_alone(client, db):
    # Behind the facade both processes share a host, so the browser sends this service the
    # monolith's cookies. It must neither read them nor answer with a cookie that replaces them.
    client.cookies["sessionid"] = "signed-by-the-monolith:with-another-secret"
    client.cookies["csrftoken"] = "the-monoliths-csrf-token"

    for url in ("/api/catalog/products/", "/api-auth/login/", "/admin/login/"):
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
    assert "catalog_sessionid" in response.cookies
    assert client.get("/api/catalog/products/", HTTP_ACCEPT="text/html").context["user"] == staff_user
