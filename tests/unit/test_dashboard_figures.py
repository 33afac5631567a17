"""The staff page's arithmetic: Prometheus text to a reading, two readings to rates and percentiles."""

import math

from monolith.dashboard import selectors
from monolith.dashboard.sources import Reading, parse_metrics

METRICS = """\
# HELP django_http_responses_before_middlewares_total Total count of responses before middlewares run.
# TYPE django_http_responses_before_middlewares_total counter
django_http_responses_before_middlewares_total 40.0
# TYPE django_http_requests_latency_including_middlewares_seconds histogram
django_http_requests_latency_including_middlewares_seconds_bucket{le="0.01"} 10.0
django_http_requests_latency_including_middlewares_seconds_bucket{le="0.1"} 30.0
django_http_requests_latency_including_middlewares_seconds_bucket{le="+Inf"} 40.0
django_http_requests_latency_including_middlewares_seconds_count 40.0
django_http_requests_latency_including_middlewares_seconds_sum 2.0
# TYPE django_http_responses_total_by_status_total counter
django_http_responses_total_by_status_total{status="200"} 35.0
django_http_responses_total_by_status_total{status="503"} 3.0
django_http_responses_total_by_status_total{status="500"} 1.0
django_http_responses_total_by_status_total{status="404"} 1.0
"""


def test_a_reading_has_responses_5xx_and_cumulative_buckets():
    reading = parse_metrics(METRICS)

    assert reading.requests == 40
    assert reading.errors == 4  # the 503s and the 500, not the 404
    assert reading.buckets == {0.01: 10, 0.1: 30, math.inf: 40}


def test_rates_and_percentiles_come_from_the_difference_of_two_readings():
    base = Reading(requests=10, errors=1, buckets={0.01: 5, 0.1: 10, math.inf: 10})
    last = Reading(requests=50, errors=3, buckets={0.01: 15, 0.1: 50, math.inf: 50})

    window = selectors._window(base, last, seconds=20)

    assert window["rate"] == 2.0  # 40 requests in 20 s
    assert window["error_rate"] == 0.05  # 2 of 40
    # 40 in the window: 10 up to 10 ms, 30 between 10 and 100 ms. The median (20th) is a third
    # of the way into the second bucket; the 95th percentile (38th) 28/30 of the way.
    assert window["p50_ms"] == 40.0
    assert window["p95_ms"] == 94.0


def test_no_rates_from_one_reading_a_silent_process_or_a_restart():
    reading = Reading(requests=10, errors=0, buckets={math.inf: 10})

    assert selectors._window(reading, reading, seconds=0)["rate"] is None
    assert selectors._window(None, reading, seconds=5)["rate"] is None
    assert selectors._window(reading, Reading(requests=2, errors=0, buckets={math.inf: 2}), seconds=5)["rate"] is None


def test_a_percentile_beyond_the_last_bucket_is_that_bucket_s_bound():
    assert selectors._quantile({0.5: 1, math.inf: 10}, 0.95) == 500.0
    assert selectors._quantile({0.5: 0, math.inf: 0}, 0.5) is None
