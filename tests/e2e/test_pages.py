"""A browser through the facade: pages and the links Django builds use the facade's address, and a
CSRF-protected form works."""

import re

import pytest
import requests

from shopctl import stack

pytestmark = pytest.mark.e2e

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_the_home_page_comes_through_the_facade(shop):
    page = requests.get(shop.url, headers={"Accept": BROWSER_ACCEPT}, timeout=10)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["X-Served-By"] == "monolith"
    assert any(link.startswith("/products/") for link in _links(page.text))
    assert stack.address("monolith", shop.env) not in page.text


def test_absolute_links_use_the_facades_address(shop):
    # Django builds absolute URLs (API pagination, the browsable API's links) from the host the
    # request names, which through the facade must be the facade's.
    browsable = requests.get(f"{shop.url}api/catalog/products/", headers={"Accept": BROWSER_ACCEPT}, timeout=10)
    as_json = requests.get(f"{shop.url}api/catalog/products/", headers={"Accept": "application/json"}, timeout=10)

    absolute_links = [link for link in _links(browsable.text) if link.startswith("http")]
    assert absolute_links
    assert all(link.startswith(shop.url) for link in absolute_links), absolute_links
    assert as_json.json()["next"].startswith(f"{shop.url}api/catalog/products/")


def test_a_customer_logs_in_with_the_csrf_protected_form(shop):
    browser = requests.Session()
    form = browser.get(f"{shop.url}accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]

    # A browser sends Origin with a POST; Django accepts it only if it matches the host Django
    # sees, which must be the facade's, not the monolith's.
    response = browser.post(
        f"{shop.url}accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": "demo", "password": "demo"},
        headers={"Origin": shop.url.rstrip("/"), "Referer": f"{shop.url}accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )

    assert response.status_code == 302, response.text[:500]
    assert response.headers["Location"] == "/"
    assert "Log out demo" in browser.get(shop.url, timeout=10).text


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]*)"', html)
