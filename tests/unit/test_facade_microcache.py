"""The facade's microcache as shopctl renders it (proxy/nginx.conf, shopctl/nginx.py): the switch, the
stage in the key, and which requests the cache may answer. tests/e2e/test_facade_microcache.py
runs it in the real nginx."""

import re

import pytest

from shopctl import ShopError, nginx, stack, state


def rendered(tmp_path, stage=0, **settings) -> str:
    return nginx.render(tmp_path, stage, stack.DEFAULT_ADDRESSES, settings).read_text()


def cache_map(config: str) -> tuple[str, re.Pattern]:
    """(the map's source, the pattern whose requests go to the cache) of $facade_cache."""
    found = re.search(r'map "([^"]*)" \$facade_cache \{\s*"~([^"]+)"\s+microcache;\s*default\s+off;\s*\}', config)
    assert found, "no map of $facade_cache in the rendered config"
    return found[1], re.compile(found[2])


def test_the_microcache_is_on_by_default_and_off_by_the_switch(tmp_path):
    assert cache_map(rendered(tmp_path))[0].startswith("on ")
    assert cache_map(rendered(tmp_path, FACADE_MICROCACHE="on"))[0].startswith("on ")
    assert cache_map(rendered(tmp_path, FACADE_MICROCACHE="off"))[0].startswith("off ")


@pytest.mark.parametrize("value", ["", "yes", "ON", "1", " on"])
def test_a_switch_other_than_on_or_off_is_refused_with_its_name(tmp_path, value):
    with pytest.raises(ShopError, match=f"FACADE_MICROCACHE={value!r} is not a switch: give on or off"):
        rendered(tmp_path, FACADE_MICROCACHE=value)
    assert not (tmp_path / "nginx.conf").exists()


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_the_key_holds_the_stage_and_the_host(tmp_path, stage):
    config = rendered(tmp_path, stage)
    assert f'proxy_cache_key "stage-{stage} $scheme://$http_host$request_uri";' in config


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /api/catalog/products/",
        "GET /api/catalog/products/SKU-1/",
        "HEAD /api/catalog/products/",
        "GET /api/catalog/categories/",
        "GET /api/catalog/categories/books/",
    ],
)
def test_anonymous_reads_of_the_catalog_s_data_may_be_cached(tmp_path, request_line):
    source, cached = cache_map(rendered(tmp_path))
    assert source == "on $request_method $uri"
    assert cached.search(f"on {request_line}")
    assert not cached.search(f"off {request_line}")


@pytest.mark.parametrize(
    "request_line",
    [
        "POST /api/catalog/products/",
        "PATCH /api/catalog/products/SKU-1/",
        "DELETE /api/catalog/categories/books/",
        "OPTIONS /api/catalog/products/",
        "GET /api/catalog/docs/",
        "GET /api/catalog/schema/",
        "GET /api/catalog/stock-reservations/",
        "GET /api/catalog/productsX/",
        "GET /api/catalog/",
        "GET /api/orders/1/",
        "GET /api/payments/",
        "GET /ops/catalog/products/",
        "GET /products/",
        "GET /x/api/catalog/products/",
    ],
)
def test_nothing_else_is(tmp_path, request_line):
    _, cached = cache_map(rendered(tmp_path))
    assert not cached.search(f"on {request_line}")


def test_requests_with_a_cookie_or_credentials_neither_read_nor_fill_the_cache():
    template = "\n".join(line.split("#", 1)[0] for line in nginx.TEMPLATE.read_text().splitlines())
    assert re.search(r'map "\$http_cookie\$http_authorization" \$facade_cache_personal \{\s*""\s+"";', template)
    assert "proxy_cache_bypass $facade_cache_personal;" in template
    assert "proxy_no_cache $facade_cache_personal;" in template
    # nginx's own rules stay: no answer that sets a cookie or says private / no-store is stored.
    assert "proxy_ignore_headers" not in template
    # Only 200s, and never a stale one.
    assert re.findall(r"proxy_cache_valid .*;", template) == ["proxy_cache_valid 200 1s;"]
    assert "proxy_cache_use_stale" not in template


def test_the_switch_is_recorded_for_shop_stage():
    assert "FACADE_MICROCACHE" in state.RECORDED
    assert nginx.SETTING_DEFAULTS["FACADE_MICROCACHE"] == "on"
