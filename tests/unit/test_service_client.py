"""The one HTTP client's guards, and the middleware's normal form of a path: no network needed."""

import pytest

from monolith.core.service_client import NO_RETRY, ServiceSession, UnsafePath, has_dot_segments
from monolith.strangler.middleware import normalised

CLOSED = "http://127.0.0.1:9"  # the discard port: a request that got as far as connecting would fail otherwise


@pytest.mark.parametrize(
    "path",
    [
        "/api/payments/../../ops/payments/",
        "/api/payments/..%2F..%2Fops/payments/",
        "/api/payments/%2e%2e/ops/",
        "/api/catalog/./products/",
        "/api/catalog/products/..",
        "/%2E%2E%2Fadmin/",
    ],
)
def test_the_client_never_sends_a_path_with_a_dot_segment(path):
    assert has_dot_segments(path)
    with pytest.raises(UnsafePath, match=r"'\.' or '\.\.' segment"):
        ServiceSession(retry=NO_RETRY).request("GET", CLOSED + path)


@pytest.mark.parametrize("path", ["/api/catalog/products/", "/api/catalog/products/COF-0001/", "/a.b/..c/.d/", "/"])
def test_dots_inside_a_segment_are_no_dot_segment(path):
    assert not has_dot_segments(path)


@pytest.mark.parametrize(
    "path, normal",
    [
        ("/api/payments/../../ops/payments/", "/ops/payments/"),
        ("/api/payments/./", "/api/payments/"),
        ("/api/catalog/products/..", "/api/catalog/"),
        ("/..", "/"),
        ("/../../etc", "/etc"),
        ("/api/catalog/products/", "/api/catalog/products/"),
        ("//double//slashes/", "//double//slashes/"),  # not a dot segment: left as Django resolves it
    ],
)
def test_a_path_s_normal_form_resolves_its_dot_segments(path, normal):
    assert normalised(path) == normal
