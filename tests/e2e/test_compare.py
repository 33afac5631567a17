"""`shop compare` for real: fresh shops, real shoppers, a report with its charts; and `--url` against a
shop already running. The figures are printed (and recorded as properties), never asserted as timings.

`shop compare` runs as a command: it runs the load in processes of its own (Locust must not be
imported here), and its shops take free ports, so these tests need no port lock.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shopctl import kit, postgres, stack

pytestmark = pytest.mark.e2e

CHARTS = ("throughput.png", "latency.png", "cpu.png", "memory.png")


def compare(*options: str, env: dict | None = None, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shopctl", "compare", *options],
        cwd=stack.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


def show(results: dict, record_property) -> None:
    """The figures of the run, in the test's output and its properties."""
    for stage in results["stages"]:
        everything = results["pages"][stage]["all"]
        work = results["per_request"][stage]
        cpu = sum(row["cpu_ms_per_request"] for row in results.get("processes", {}).get(stage, {}).values())
        line = (
            f"stage {stage}: {everything['rps']} req/s, p50 {everything['p50']} ms, p95 {everything['p95']} ms, "
            f"CPU {cpu:.1f} ms/request, SQL {work.get('sql_queries')}/request, calls {work.get('service_calls')}/request"
        )
        print(line)
        record_property(f"stage {stage}", line)


def test_quick_compare_measures_each_stage_and_writes_the_report(tmp_path, record_property):
    out = tmp_path / "report"

    result = compare("--quick", "--out", str(out))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Report: {out / 'report.md'}" in result.stdout
    report = (out / "report.md").read_text()
    for chart in CHARTS:
        assert (out / chart).stat().st_size > 0 and f"]({chart})" in report
    results = read_results(out)
    show(results, record_property)
    assert results["stages"] == ["0", "2"]
    for stage in results["stages"]:
        pages = results["pages"][stage]
        assert pages["all"]["requests"] > 0
        assert {page: row["failures"] for page, row in pages.items() if row["failures"]} == {}, pages
        processes = results["processes"][stage]
        for name in ("facade", "monolith"):
            assert processes[name]["cpu_ms_per_request"] is not None and processes[name]["pss_mib"] > 0, processes
        assert results["per_request"][stage]["sql_queries"] > 0
    # Only what each stage needs: stage 0 is the facade and the monolith alone; stage 2 calls its services.
    assert results["running"]["0"] == ["facade", "monolith"]
    assert {"catalog", "payments"} <= set(results["processes"]["2"]) and "catalog" not in results["processes"]["0"]
    # Each shop's own PostgreSQL only: stage 2's cluster has a shop_catalog database with backends, stage 0's none.
    assert "postgres:catalog" in results["processes"]["2"] and "postgres:catalog" not in results["processes"]["0"]
    assert results["per_request"]["0"]["service_calls"] == 0 < results["per_request"]["2"]["service_calls"]
    # The shoppers' live tables went to the logs, not to the terminal.
    assert "requests" in (out / "logs" / "stage-0-round-1.log").read_text()
    assert "page type" not in result.stdout


@pytest.fixture(scope="module")
def running_shop(tmp_path_factory):
    """A stage-0 shop of its own, as `shop up` runs one, with its run state in its run folder."""
    folder = tmp_path_factory.mktemp("running")
    try:
        with kit.fresh_shop(0, folder) as shop:
            yield shop
    finally:
        # Under root its cluster may live in the postgres user's home (pytest's folders are private).
        postgres.remove(folder / "run")


def test_url_measures_the_running_shop_and_finds_its_processes(running_shop, tmp_path, record_property):
    out = tmp_path / "report"

    result = compare(
        "--url", running_shop.url, "--duration", "5", "--rounds", "1", "--out", str(out), env=running_shop.env
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = read_results(out)
    show(results, record_property)
    assert results["stages"] == ["0"]  # what its /readyz says
    assert results["pages"]["0"]["all"]["requests"] > 0 and results["pages"]["0"]["all"]["failures"] == 0
    assert {"facade", "monolith"} <= set(results["processes"]["0"])
    assert results["per_request"]["0"]["sql_queries"] > 0
    assert results["options"]["url"] == running_shop.url


def test_url_without_the_shops_run_state_says_what_is_missing(running_shop, tmp_path):
    out = tmp_path / "report"
    elsewhere = {**running_shop.env, "SHOP_RUN_DIR": str(tmp_path / "no-shop-here")}

    result = compare("--url", running_shop.url, "--duration", "5", "--rounds", "1", "--out", str(out), env=elsewhere)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = read_results(out)
    assert results["pages"]["0"]["all"]["requests"] > 0
    assert results["processes"] == {}
    assert any("CPU, memory and SQL per request are missing" in note for note in results["notes"])
    assert "CPU, memory and SQL per request are missing" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    "options, named",
    [
        (["--stages", "0,5"], "--stages"),
        (["--stages", "0,0"], "--stages"),
        (["--rounds", "0"], "--rounds"),
        (["--duration", "soon"], "--duration"),
        (["--think", "3-1"], "--think"),
        (["--url", "http://example.com/"], "--url"),
        (["--microcache", "maybe"], "--microcache"),
        (["--url", "http://127.0.0.1:9/", "--stages", "0"], "--url"),
        (["--url", "http://127.0.0.1:9/"], "http://127.0.0.1:9/readyz"),  # nothing answers there
    ],
)
def test_a_bad_option_is_a_clear_error_naming_it(options, named, tmp_path):
    result = compare(*options, "--out", str(tmp_path / "never"), timeout=60)

    assert result.returncode != 0
    assert named in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "never").exists()
