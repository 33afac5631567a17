"""The facade's rate limits per client address: over them a 429 with Retry-After, JSON under /api/ and
a page elsewhere; under them everything passes, and a class of 30 behind one address stays under
the defaults.

Two shops of their own (facade and monolith, at free ports, on the session's database): one with
tiny limits (FACADE_* in its environment, as a teacher would set them) to reach them in a few
requests, one with the defaults for the class. The session's other shops run without limits.
"""

import http.client
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from shopctl import ShopError, nginx, stack
from shopctl.background import BackgroundShop
from tests.conftest import GOOD_CARD, SHIPPING

pytestmark = pytest.mark.e2e

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TINY = {
    "FACADE_LOGIN_PER_MINUTE": "1",
    "FACADE_LOGIN_BURST": "3",
    "FACADE_CHECKOUT_PER_MINUTE": "1",
    "FACADE_CHECKOUT_BURST": "2",
    "FACADE_API_PER_SECOND": "1",
    "FACADE_API_BURST": "5",
}
CLASS = 30


def _facade_and_monolith(shop_env, run_dir, limits) -> BackgroundShop:
    env = {name: value for name, value in shop_env.items() if name not in nginx.LIMIT_DEFAULTS}
    env.update(limits, FACADE_ADDR=stack.free_address(), MONOLITH_ADDR=stack.free_address(), SHOP_RUN_DIR=str(run_dir))
    return BackgroundShop(["facade", "monolith"], env=env, log_path=run_dir / "shop.log")


@pytest.fixture(scope="module")
def limited_shop(shop_env, tmp_path_factory) -> Iterator[BackgroundShop]:
    yield from _running(_facade_and_monolith(shop_env, tmp_path_factory.mktemp("limited"), TINY))


@pytest.fixture(scope="module")
def default_shop(shop_env, tmp_path_factory) -> Iterator[BackgroundShop]:
    yield from _running(_facade_and_monolith(shop_env, tmp_path_factory.mktemp("defaults"), {}))


def _running(shop: BackgroundShop) -> Iterator[BackgroundShop]:
    try:
        shop.start()
        shop.wait_until_ready()
        yield shop
    except ShopError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        shop.stop()


def assert_limited(response: requests.Response, form: str, retry_after: str) -> None:
    assert response.status_code == 429, response.text[:300]
    assert response.headers["X-Served-By"] == "facade"
    assert response.headers["Retry-After"] == retry_after
    assert response.headers["X-Request-ID"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if form == "json":
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["code"] == "rate_limited"
        assert response.json()["detail"]
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "Too many requests" in response.text


def test_logins_over_the_limit_get_a_429_and_the_rest_of_the_shop_does_not(limited_shop):
    url = limited_shop.url
    browser = requests.Session()
    form = browser.get(f"{url}accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]

    def wrong_password(path="accounts/login/", **headers):
        return browser.post(
            url + path,
            data={"csrfmiddlewaretoken": token, "username": "demo", "password": "not-demo"},
            headers={"Origin": url.rstrip("/"), "Referer": f"{url}accounts/login/", **headers},
            allow_redirects=False,
            timeout=10,
        )

    # Under the limit (1 a minute, bursts of 3 more): every try reaches the monolith's form.
    for _ in range(4):
        tried = wrong_password()
        assert tried.status_code == 200 and tried.headers["X-Served-By"] == "monolith"
        assert "Please enter a correct username and password" in tried.text

    assert_limited(wrong_password(Accept=BROWSER_ACCEPT), "html", retry_after="60")
    # Every login form counts for the same address; a client that asks for JSON gets JSON.
    assert_limited(wrong_password("admin/login/", Accept="application/json"), "json", retry_after="60")
    # Only the tries are limited: the form and the shop still answer.
    for path in ("accounts/login/", ""):
        answer = browser.get(url + path, timeout=10)
        assert answer.status_code == 200 and answer.headers["X-Served-By"] == "monolith", path


def test_api_requests_over_the_limit_get_a_json_429_until_retry_after_has_passed(limited_shop):
    url = f"{limited_shop.url}api/catalog/categories/"
    api = requests.Session()

    answers = [api.get(url, timeout=10) for _ in range(12)]

    # 1 a second, bursts of 5 more: the first 6 pass, then the facade refuses.
    assert [answer.status_code for answer in answers[:6]] == [200] * 6
    assert all(answer.headers["X-Served-By"] == "monolith" for answer in answers[:6])
    refused = [answer for answer in answers[6:] if answer.status_code != 200]
    assert len(refused) >= 4
    for answer in refused:
        assert_limited(answer, "json", retry_after="1")
    # Per address: another one (all of 127.0.0.0/8 is this machine) is not limited.
    other = http.client.HTTPConnection(
        urlsplit(url).hostname, urlsplit(url).port, timeout=10, source_address=("127.0.0.2", 0)
    )
    other.request("GET", urlsplit(url).path)
    assert other.getresponse().status == 200
    other.close()
    # Retry-After says when: a second later one more passes.
    time.sleep(1.2)
    assert requests.get(url, timeout=10).status_code == 200


def test_checkouts_over_the_limit_get_a_429(limited_shop):
    url = limited_shop.url
    # No CSRF token: the monolith answers 403, but it answers; the limit counts the tries.
    for _ in range(3):
        tried = requests.post(f"{url}checkout/", data={}, timeout=10)
        assert tried.status_code == 403 and tried.headers["X-Served-By"] == "monolith"

    assert_limited(
        requests.post(f"{url}checkout/", data={}, headers={"Accept": BROWSER_ACCEPT}, timeout=10),
        "html",
        retry_after="60",
    )
    # Paying through the API is a checkout too, from the same address.
    pay = requests.post(
        f"{url}api/orders/AAAAAAAAAA/pay/",
        json={"card": GOOD_CARD},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert_limited(pay, "json", retry_after="60")


def test_a_class_of_30_behind_one_address_stays_under_the_default_limits(default_shop):
    url = default_shop.url
    products = requests.get(f"{url}api/catalog/products/", params={"in_stock": "true", "page_size": 100}, timeout=10)
    in_stock = [product["sku"] for product in products.json()["results"] if product["stock"] >= 2]
    assert len(in_stock) >= 5

    def a_shopper(number: int) -> list[tuple[str, int]]:
        """Log in, open the API docs, place an order and pay it: every answer's status."""
        browser, seen = requests.Session(), []

        def call(method, path, **kwargs):
            response = browser.request(method, url + path, timeout=60, **kwargs)
            seen.append((f"{method} {re.sub(r'/orders/[^/]+/pay/', '/orders/<n>/pay/', path)}", response.status_code))
            return response

        form = call("GET", "accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
        call(
            "POST",
            "accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": "demo", "password": "demo"},
            headers={"Origin": url.rstrip("/"), "Referer": f"{url}accounts/login/"},
            allow_redirects=False,
        )
        # (Not /api/schema/: 30 first requests for it at once meet drf-spectacular's thread-unsafe
        # schema generation, a 500 for some, whatever the facade does: tfranzel/drf-spectacular#1123.)
        for path in ("api/docs/", "api/docs/?script=", "api/catalog/products/", "api/orders/"):
            call("GET", path)
        # As Swagger UI or the browsable API sends them, for a shopper logged in with a session.
        as_a_browser = {"X-CSRFToken": browser.cookies.get("csrftoken", ""), "Referer": f"{url}api/docs/"}
        sku = in_stock[number % len(in_stock)]
        order = call(
            "POST",
            "api/orders/",
            headers=as_a_browser,
            json={"email": "class@example.com", "shipping": SHIPPING, "lines": [{"sku": sku, "quantity": 1}]},
        )
        if order.status_code == 201:
            call(
                "POST",
                f"api/orders/{order.json()['number']}/pay/",
                json={"card": GOOD_CARD},
                headers={**as_a_browser, "Idempotency-Key": str(uuid.uuid4())},
            )
        return seen

    with ThreadPoolExecutor(max_workers=CLASS) as pool:
        statuses = Counter(status for seen in pool.map(a_shopper, range(CLASS)) for status in seen)

    assert 429 not in {status for _, status in statuses}, statuses
    assert statuses[("POST accounts/login/", 302)] == CLASS, statuses
    assert statuses[("GET api/docs/", 200)] == CLASS, statuses
    assert statuses[("POST api/orders/", 201)] == CLASS, statuses
    assert statuses[("POST api/orders/<n>/pay/", 201)] == CLASS, statuses


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "ten", ""])
def test_a_limit_that_is_not_a_whole_number_above_0_is_refused_with_its_name(value):
    with pytest.raises(ShopError, match=f"FACADE_API_BURST={value!r} is not a limit"):
        nginx.rate_limits({"FACADE_API_BURST": value})


def test_limits_come_from_the_environment_and_default_to_limit_defaults():
    limits = nginx.rate_limits({"FACADE_LOGIN_PER_MINUTE": " 5 ", "UNRELATED": "x"})
    assert limits == {**nginx.LIMIT_DEFAULTS, "FACADE_LOGIN_PER_MINUTE": "5"}
