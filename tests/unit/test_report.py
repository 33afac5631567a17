"""The comparison kit's report (shopctl/report.py): from a results dict to Markdown, charts, CSV and JSON."""

import csv
import json

from shopctl import report


def results(**extra):
    def pages(rps, p50):
        return {
            "home": {"requests": 600, "failures": 0, "rps": rps, "p50": p50, "p95": p50 * 3, "p99": p50 * 6},
            "all": {"requests": 600, "failures": 6, "rps": rps, "p50": p50, "p95": p50 * 3, "p99": p50 * 6},
        }

    return {
        "kind": "compare",
        "title": "Stage 2 against stage 0",
        "created": "2026-12-04T21:00:00+00:00",
        "machine": {"hostname": "box", "cpus": 2, "memory_gib": 24, "platform": "Linux", "python": "3.11"},
        "versions": {"django": "5.2"},
        "options": {"users": 8},
        "stages": [0, 2],
        "pages": {"0": pages(100.0, 20.0), "2": pages(80.0, 30.0)},
        "processes": {
            "0": {"monolith": {"cpu_ms_per_request": 10.0, "pss_mib": 300.0}},
            "2": {
                "monolith": {"cpu_ms_per_request": 8.0, "pss_mib": 300.0},
                "catalog": {"cpu_ms_per_request": 7.0, "pss_mib": 200.0},
            },
        },
        "per_request": {
            "0": {"sql_queries": 5.0, "service_calls": 0.0},
            "2": {"sql_queries": 6.0, "service_calls": 1.0},
        },
        **extra,
    }


def test_the_report_holds_the_figures_their_ratios_and_the_charts(tmp_path):
    written = report.write(results(), tmp_path)

    text = written.read_text()
    assert "| all | 100.0 | 80.0 | **0.80** |" in text  # req/s per stage and stage 2 / stage 0
    assert "| home | 2 | 600 | 0 | 0.00% | 30.0 | 90.0 | 180.0 | **1.50** |" in text  # p50 ratio
    assert (
        "| 2 | **all** | **15.00** (× 1.50 of stage 0) | **500.0** | |" in text
    )  # CPU per request and memory, all processes
    for chart in ("throughput.png", "latency.png", "cpu.png", "memory.png"):
        assert f"]({chart})" in text
        assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2 cores" in text and "`users=8`" in text and "django 5.2" in text


def test_the_raw_figures_are_kept_as_json_and_csv(tmp_path):
    report.write(results(), tmp_path)

    assert json.loads((tmp_path / "results.json").read_text()) == results()
    rows = list(csv.DictReader((tmp_path / "pages.csv").read_text().splitlines()))
    assert [(r["stage"], r["page"], r["rps"], r["error_rate"]) for r in rows] == [
        ("0", "home", "100.0", "0.0"),
        ("0", "all", "100.0", "0.01"),
        ("2", "home", "80.0", "0.0"),
        ("2", "all", "80.0", "0.01"),
    ]
    processes = list(csv.DictReader((tmp_path / "processes.csv").read_text().splitlines()))
    assert {(r["stage"], r["process"]) for r in processes} == {("0", "monolith"), ("2", "monolith"), ("2", "catalog")}


def test_an_exercise_adds_its_fault_its_timeline_recovery_and_data_check(tmp_path):
    timeline = {
        "2": [
            {"t": t, "page": "checkout", "requests": 5, "failures": 1 if 10 <= t < 20 else 0, "p95": 40}
            for t in range(30)
        ]
    }
    written = report.write(
        results(
            kind="exercise",
            fault={"name": "payments-down", "description": "Payments stopped.", "start_s": 10, "end_s": 20},
            timeline=timeline,
            recovery_s={"0": 1.5, "2": None},
            data_check={"2": {"orders": 40, "lost": 0, "charged_twice": 0, "stock_exact": True}},
        ),
        tmp_path,
    )

    text = written.read_text()
    assert "## The fault: payments-down" in text and "from 10 s to 20 s" in text
    assert "![timeline](timeline.png)" in text and (tmp_path / "timeline.png").exists()
    assert "stage 0: recovered 1.5 s after the fault was removed" in text
    assert "stage 2: did not recover before the load ended" in text
    assert "| 2 | 40 | 0 | 0 | True |" in text
    assert len(list(csv.DictReader((tmp_path / "timeline.csv").read_text().splitlines()))) == 30


def test_missing_figures_give_a_report_that_says_so(tmp_path):
    bare = {"title": "Nothing measured", "stages": [0, 1]}

    text = report.write(bare, tmp_path).read_text()

    assert "| all | – | – | – |" in text
    assert (tmp_path / "cpu.png").exists()


def test_a_report_can_be_written_again_from_its_results_json(tmp_path, capsys):
    report.write(results(), tmp_path / "first")

    report.main([str(tmp_path / "first" / "results.json"), "--out", str(tmp_path / "again")])

    assert (tmp_path / "again" / "report.md").read_text() == (tmp_path / "first" / "report.md").read_text()


def test_shopper_pages_and_api_reads_get_a_row_and_a_ratio_each(tmp_path):
    measured = results()
    for stage, api_rps in (("0", 20.0), ("2", 40.0)):
        measured["pages"][stage]["api-products"] = {"requests": 100, "failures": 0, "rps": api_rps}

    text = report.write(measured, tmp_path).read_text()

    assert "| *shopper pages* | 100.0 | 80.0 | **0.80** |" in text
    assert "| *API reads* | 20.0 | 40.0 | **2.00** |" in text
    assert (tmp_path / "throughput.png").read_bytes()[:4] == b"\x89PNG"
