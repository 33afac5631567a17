"""What `shop up` runs shows no debug page, still serves its CSS, and holds no credential from the repository.

Through the facade at stage 0, as an audience would see the shop (issue 10).
"""

import re
import stat
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_an_unknown_url_is_the_shops_404_page_not_the_debug_page(shop):
    response = requests.get(f"{shop.url}no-such-page/", timeout=10)

    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    assert "URLconf" not in response.text and "DEBUG = True" not in response.text


def test_a_form_with_too_many_fields_is_a_400_not_the_debug_page(shop):
    # With a CSRF cookie and token, as a browser sends a form: Django refuses the fields when the
    # CSRF check reads the form (without a cookie it would refuse with a 403 before reading it).
    browser = requests.Session()
    login_page = browser.get(f"{shop.url}accounts/login/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)[1]
    fields = {"csrfmiddlewaretoken": token, **{f"field{n}": "x" for n in range(2000)}}

    response = browser.post(f"{shop.url}cart/add/", data=fields, headers={"Origin": shop.url.rstrip("/")}, timeout=10)

    assert response.status_code == 400
    assert "TooManyFieldsSent" not in response.text and "Traceback" not in response.text


def test_a_bad_host_header_is_a_400_not_the_debug_page(shop):
    response = requests.get(shop.url, headers={"Host": "evil.example.com"}, timeout=10)

    assert response.status_code == 400
    assert "DisallowedHost" not in response.text and "ALLOWED_HOSTS" not in response.text


def test_the_pages_css_is_served_without_debug(shop):
    page = requests.get(shop.url, timeout=10)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text)[1]

    css = requests.get(shop.url.rstrip("/") + stylesheet, timeout=10)

    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")


def test_the_run_has_secrets_of_its_own(shop):
    secrets_file = Path(shop.env["SHOP_RUN_DIR"]) / "secrets.env"

    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert "not-a-secret" not in secrets_file.read_text()
    # The old committed token opens nothing.
    response = requests.post(
        f"{shop.url}api/catalog/stock-reservations/",
        json={},
        headers={"Authorization": "Bearer local-only-not-a-secret-monolith-token"},
        timeout=10,
    )
    assert response.status_code == 401
