"""`shop compare`'s arithmetic (shopctl/compare.py): windows of load, CPU and counters in, the report's figures out."""

import argparse

import pytest

from shopctl import compare


def window(round_number, requests, seconds, p50, cpu, sql, calls=0):
    return {
        "round": round_number,
        "summary": {
            "requests": requests,
            "failures": 1,
            "seconds": seconds,
            "by_page": {"home": {"requests": requests, "errors": 1, "p50_ms": p50, "p95_ms": p50 * 2, "p99_ms": None}},
            "latency_ms": {"p50": p50, "p95": p50 * 2, "p99": p50 * 4},
        },
        "cpu_s": {"monolith": cpu, "postgres:monolith": cpu / 4},
        "pss_mib": {"monolith": 200.0 + round_number, "postgres:monolith": 30.0},
        "counters": {"monolith": {compare.SQL_METRIC: sql, compare.CALLS_METRIC: calls}},
        "load_cpu_s": 0.5,
    }


def test_windows_add_up_to_rates_per_request_and_the_median_of_their_percentiles():
    target = compare.Target("0", "http://127.0.0.1:1/", ["facade", "monolith"], [1], {}, {"monolith": "http://x"})
    target.windows = [window(1, 1000, 10, 40.0, 8.0, 5000, 100), window(2, 3000, 10, 60.0, 16.0, 15000, 300)]

    figures = compare.figures(target)

    everything = figures["pages"]["all"]
    assert everything["requests"] == 4000 and everything["failures"] == 2
    assert everything["rps"] == 200.0  # 4000 requests in 20 s
    assert everything["p50"] == 50.0 and everything["p99"] == 200.0  # the median of the windows' (two: their mean)
    assert figures["pages"]["home"]["p99"] is None  # not measured stays not measured
    monolith = figures["processes"]["monolith"]
    assert monolith == {"cpu_ms_per_request": 6.0, "pss_mib": 201.5, "sql_per_request": 5.0}  # 24 s / 4000
    assert "sql_per_request" not in figures["processes"]["postgres:monolith"]
    assert list(figures["processes"]) == ["monolith", "postgres:monolith"]
    assert figures["per_request"] == {"sql_queries": 5.0, "service_calls": 0.1, "load_cpu_ms": 0.25}
    assert [r["rps"] for r in figures["rounds"]] == [100.0, 300.0]


def test_a_shop_whose_processes_were_not_found_has_no_process_figures():
    target = compare.Target("2", "http://127.0.0.1:1/", [], [], {}, {})
    bare = window(1, 500, 5, 30.0, 0, 0)
    bare.update(cpu_s={}, pss_mib={}, counters={})
    target.windows = [bare]

    figures = compare.figures(target)

    assert figures["processes"] == {}
    assert figures["per_request"] == {"load_cpu_ms": 1.0}
    assert figures["pages"]["all"]["rps"] == 100.0


@pytest.mark.parametrize(
    "parse, text, expected",
    [
        (compare.stage_list, "2,0", [2, 0]),
        (compare.think_time, "0", (0.0, 0.0)),
        (compare.think_time, "1-3", (1.0, 3.0)),
        (compare.local_url, "127.0.0.1:8080", "http://127.0.0.1:8080/"),
    ],
)
def test_options_are_read(parse, text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "parse, text",
    [
        (compare.stage_list, "0,3"),
        (compare.stage_list, "0,,1"),
        (compare.stage_list, "1,1"),
        (compare.think_time, "-1"),
        (compare.think_time, "3-1"),
        (compare.local_url, "http://localhost:8080/"),
        (compare.local_url, "https://127.0.0.1:8080/"),
    ],
)
def test_bad_options_are_refused(parse, text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)
