"""The facade's microcache (proxy/nginx.conf; docs/decisions/0007-facade-microcache.md) with the real
nginx and the real processes behind it: anonymous catalog API reads answered from the cache, and
never an answer for someone signed in, one that sets a cookie, or one of the stage before a switch.

Each test reads its own URL (a query parameter the API ignores, `probe`), so no other test's
reads fill the entry it looks at. An entry lives 1 to 2 s (nginx counts `proxy_cache_valid 200 1s`
in whole seconds): two requests one after the other fall within it.
"""

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shopctl import nginx, stack, state
from shopctl.background import BackgroundShop
from tests.e2e.conftest import _start

pytestmark = pytest.mark.e2e

ADMIN = ("admin", "admin")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def fresh(url: str, path: str = "api/catalog/products/") -> str:
    """An address of the catalog API no request has read before: its own cache entry."""
    return f"{url}{path}?page_size=20&probe={uuid.uuid4().hex}"


def cache_status(response: requests.Response) -> str | None:
    return response.headers.get("X-Cache-Status")


def test_an_anonymous_read_is_stored_and_the_next_one_answered_from_the_cache(shop):
    address = fresh(shop.url)
    first = requests.get(address, timeout=10)
    second = requests.get(address, timeout=10)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (cache_status(first), cache_status(second)) == ("MISS", "HIT")
    assert second.content == first.content
    # The cached answer is still the monolith's, with the facade's headers of this request.
    assert second.headers["X-Served-By"] == "monolith"
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert "Cache-Control" not in second.headers
    # HEAD as GET; the categories too.
    assert cache_status(requests.head(address, timeout=10)) == "HIT"
    categories = fresh(shop.url, "api/catalog/categories/")
    assert [cache_status(requests.get(categories, timeout=10)) for _ in range(2)] == ["MISS", "HIT"]


@pytest.mark.parametrize(
    "path",
    ["api/catalog/docs/", "api/catalog/schema/", "api/docs/", "products/", "healthz"],
)
def test_nothing_but_the_catalog_data_is_cached(shop, path):
    address = fresh(shop.url, path)
    answers = [requests.get(address, timeout=10) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [cache_status(answer) for answer in answers] == [None, None]


@pytest.mark.parametrize(
    "credentials",
    [
        {"headers": {"Cookie": "sessionid=someone-s-session"}},
        {"headers": {"Cookie": "csrftoken=abc"}},
        {"auth": ADMIN},
        {"headers": {"Authorization": "Bearer not-a-token"}},
    ],
    ids=["session cookie", "csrf cookie", "basic auth", "bearer token"],
)
def test_a_request_with_a_cookie_or_credentials_is_never_answered_from_the_cache_nor_stored(shop, credentials):
    address = fresh(shop.url)
    # An anonymous answer in the cache first: the personal request must not get it.
    assert cache_status(requests.get(address, timeout=10)) == "MISS"
    personal = [requests.get(address, timeout=10, **credentials) for _ in range(2)]
    assert [cache_status(answer) for answer in personal] == ["BYPASS", "BYPASS"]

    # Nor does a personal answer reach the next anonymous reader: a new address, read with
    # credentials first, is still missing for the anonymous one.
    address = fresh(shop.url)
    requests.get(address, timeout=10, **credentials)
    assert cache_status(requests.get(address, timeout=10)) == "MISS"


def test_a_signed_in_customer_s_browser_is_never_answered_from_the_cache(shop):
    browser = requests.Session()
    login = browser.get(f"{shop.url}accounts/login/", timeout=10)
    assert login.status_code == 200
    signed_in = browser.post(
        f"{shop.url}accounts/login/",
        data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{shop.url}accounts/login/"},
        timeout=10,
    )
    assert signed_in.status_code == 200 and "sessionid" in browser.cookies
    address = fresh(shop.url)
    assert cache_status(requests.get(address, timeout=10)) == "MISS"
    assert cache_status(browser.get(address, timeout=10)) == "BYPASS"


def test_an_answer_that_sets_a_cookie_is_never_cached(shop):
    # The browsable API's page sets the CSRF cookie (its forms need one): nginx must not keep it.
    address = fresh(shop.url)
    answers = [requests.get(address, headers={"Accept": BROWSER_ACCEPT}, timeout=10) for _ in range(3)]
    assert all("csrftoken=" in answer.headers.get("Set-Cookie", "") for answer in answers)
    assert [cache_status(answer) for answer in answers] == ["MISS", "MISS", "MISS"]
    # The JSON of the same address, which sets none, is a variant of its own (Vary: Accept).
    assert [cache_status(requests.get(address, timeout=10)) for _ in range(2)] == ["MISS", "HIT"]


def test_a_price_change_shows_to_anonymous_readers_once_the_entry_expires(shop):
    admin = requests.Session()
    admin.auth = ADMIN
    product = admin.get(f"{shop.url}api/catalog/products/", params={"ordering": "name"}, timeout=10).json()["results"][
        0
    ]
    address = f"{shop.url}api/catalog/products/{product['sku']}/?probe={uuid.uuid4().hex}"
    old = requests.get(address, timeout=10).json()["price"]
    new = f"{float(old) + 1:.2f}"
    try:
        changed = admin.patch(f"{shop.url}api/catalog/products/{product['sku']}/", json={"price": new}, timeout=10)
        # A write never meets the cache (only GET and HEAD do).
        assert changed.status_code == 200 and cache_status(changed) is None
        # Right after the change, the anonymous reader may still get the old price: from the cache.
        cached = requests.get(address, timeout=10)
        if cache_status(cached) == "HIT":
            assert cached.json()["price"] == old
        # Once the entry has expired (at most 2 s: nginx counts the 1 s in whole seconds), the next
        # read asks the monolith again and shows the new price; every read until then was a HIT.
        deadline = time.monotonic() + 30
        while cache_status(read := requests.get(address, timeout=10)) == "HIT" and time.monotonic() < deadline:
            assert read.json()["price"] == old
            time.sleep(0.05)
        assert cache_status(read) == "EXPIRED", cache_status(read)
        assert read.json()["price"] == new
    finally:
        admin.patch(f"{shop.url}api/catalog/products/{product['sku']}/", json={"price": old}, timeout=10)


def test_after_a_stage_switch_no_answer_of_the_previous_owner_is_served(switching_shop):
    url = switching_shop.url
    address = fresh(url)
    before = [requests.get(address, timeout=10) for _ in range(2)]
    assert [(cache_status(answer), answer.headers["X-Served-By"]) for answer in before] == [
        ("MISS", "monolith"),
        ("HIT", "monolith"),
    ]

    # A reader keeps the monolith's answer fresh in the cache up to the reload and through it.
    stop, seen = threading.Event(), []

    def read() -> None:
        while not stop.is_set():
            answer = requests.get(address, timeout=10)
            seen.append((cache_status(answer), answer.headers["X-Served-By"]))
            time.sleep(0.02)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        switched = switching_shop.switch(1)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert ("HIT", "monolith") in seen  # the entry of stage 0 was fresh when the facade reloaded
    # The same address, at once: the catalog service's answer, never the monolith's stored one.
    after = requests.get(address, timeout=10)
    assert after.headers["X-Served-By"] == "catalog", (cache_status(after), seen[-5:])
    status = switching_shop.command("status")
    assert status.returncode == 0, status.stdout + status.stderr

    # And back: the monolith's entry of stage 0 may still be on disk, but an expired one is never
    # served. (For up to 2 s after the switch the cache may hold the catalog service's answer of
    # the moment the facade sent the prefix to the monolith, which passed it on to the catalog.)
    switched = switching_shop.switch(0)
    assert switched.returncode == 0, switched.stdout + switched.stderr
    assert switching_shop.command("status").returncode == 0
    back = requests.get(fresh(url), timeout=10)
    assert (cache_status(back), back.headers["X-Served-By"]) == ("MISS", "monolith")


@pytest.fixture
def uncached_shop(shop_env, tmp_path) -> Iterator[BackgroundShop]:
    """A facade and monolith of their own, on the session's databases, with FACADE_MICROCACHE=off."""
    env = {
        **shop_env,
        "FACADE_MICROCACHE": "off",
        "FACADE_ADDR": stack.free_address(),
        "MONOLITH_ADDR": stack.free_address(),
        "SHOP_RUN_DIR": str(tmp_path),
    }
    running = BackgroundShop(["facade", "monolith"], env=env, log_path=tmp_path / "shop.log")
    try:
        _start(running)
        yield running
    finally:
        running.stop()


def test_facade_microcache_off_caches_nothing_and_is_recorded(uncached_shop):
    address = fresh(uncached_shop.url)
    answers = [requests.get(address, timeout=10) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [cache_status(answer) for answer in answers] == [None, None, None]
    # Every one reached the monolith: three log lines with the three request ids (the supervisor
    # writes them to the log a moment after the answers).
    ids = {answer.headers["X-Request-ID"] for answer in answers}
    deadline = time.monotonic() + 10
    while not all(id_ in (logged := "\n".join(uncached_shop.lines_of("monolith"))) for id_ in ids):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all(id_ in logged for id_ in ids), [id_ for id_ in ids if id_ not in logged]
    # `shop stage N` renders the facade again with what `shop up` recorded.
    recorded = state.running(Path(uncached_shop.env["SHOP_RUN_DIR"]))["environment"]
    assert recorded["FACADE_MICROCACHE"] == "off"
    assert {name for name in nginx.SETTING_DEFAULTS} <= set(recorded)
