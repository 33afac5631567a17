"""The speaker's live picture on a real shop: `shop load` counts what it sent, and the staff page
/staff/migration/ reads back from the processes' own metrics what the facade served.

`shop load` runs as a command: importing Locust here would patch this process for gevent.
"""

import json
import re
import subprocess
import sys
import time

import psycopg2
import pytest
import requests

from shopctl import stack

pytestmark = pytest.mark.e2e

_UPSTREAM = re.compile(r" upstream=(\S+) ")
_CACHE = re.compile(r" cache=(\S+) ")


def test_shop_load_counts_what_it_sent_and_its_shoppers_check_out(shop, tmp_path):
    orders_before = {number for number, _ in _new_orders(shop)}
    summary_path = tmp_path / "summary.json"

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopctl",
            "load",
            "--url",
            shop.url,
            "--duration",
            "10",
            "--users",
            "5",
            "--rate",
            "15",
            "--summary-json",
            str(summary_path),
        ],
        cwd=stack.REPO,
        env=shop.env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["failures"] == 0 and summary["requests"] > 50, summary
    assert "Done after" in result.stdout and "served by" in result.stdout
    # What the facade logged for the load's user agent, by the process it passed each request to.
    names = {stack.address(name, shop.env): name for name in stack.servers()}
    logged = [line for line in shop.lines_of("facade") if f'"{summary["user_agent"]}"' in line]
    # An anonymous catalog API read that the facade's microcache answered (cache=HIT) reached no
    # upstream; the answer it kept is still the monolith's, and says so (X-Served-By).
    passed_on = [line for line in logged if _CACHE.search(line)[1] != "HIT"]
    by_process = {}
    for line in passed_on:
        upstream = names.get(_UPSTREAM.search(line)[1], "facade")
        by_process[upstream] = by_process.get(upstream, 0) + 1
    served_by = {name: row["requests"] for name, row in summary["by_served_by"].items()}
    assert len(logged) == summary["requests"]
    assert served_by == {"monolith": summary["requests"]}  # stage 0
    assert by_process == {"monolith": len(passed_on)}
    # Every checkout that redirected to its order placed one (a run may end between the two).
    pages = summary["by_page"]
    placed = [(number, status) for number, status in _new_orders(shop) if number not in orders_before]
    assert pages["order"]["requests"] >= 1, pages
    assert pages["order"]["requests"] <= len(placed) <= pages["checkout"]["requests"]
    assert {status for _, status in placed} <= {"paid", "payment_failed"}
    # The timeline (the exercises' chart) counts every request once, second by second, by page type.
    timeline = summary["timeline"]
    assert sum(row["requests"] for row in timeline) == summary["requests"]
    assert {row["page"] for row in timeline} == set(pages)
    assert max(row["t"] for row in timeline) >= 8  # a 10 s run


def test_shop_load_refuses_a_host_other_than_this_machine(shop):
    result = subprocess.run(
        [sys.executable, "-m", "shopctl", "load", "--url", "http://example.com/", "--duration", "1"],
        cwd=stack.REPO,
        env=shop.env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "only sends to 127.0.0.1" in result.stderr


def test_the_migration_page_reads_back_what_the_facade_served(shop):
    monolith = f"http://{stack.address('monolith', shop.env)}"
    staff = _logged_in(monolith, "admin")
    sent = 25

    time.sleep(1.1)  # a worker reuses a reading for a second
    before = _figures(staff, monolith)
    for read in range(sent):
        # Each its own address, so that the facade's microcache answers none of them.
        answer = requests.get(f"{shop.url}api/catalog/categories/", params={"read": read}, timeout=10)
        assert answer.status_code == 200 and answer.headers["X-Cache-Status"] == "MISS"
    time.sleep(1.1)
    after = _figures(staff, monolith)

    assert all(process["up"] for process in after.values()), after
    served = {name: after[name]["requests"] - before[name]["requests"] for name in after}
    # One more than sent at each: the monolith also served the first read of the page's figures
    # (each read counts only the requests answered before it), and the facade counts the read
    # of its own status that the second one made.
    assert served["facade"] == sent + 1, served
    assert served["monolith"] == sent + 1, served
    assert served["catalog"] == served["payments"] == 0, served  # stage 0: neither serves anything
    assert after["monolith"]["errors"] == before["monolith"]["errors"]


def test_the_migration_page_is_for_staff_only_and_shows_the_stage(shop):
    monolith = f"http://{stack.address('monolith', shop.env)}"
    anonymous = requests.get(f"{shop.url}staff/migration/", allow_redirects=False, timeout=10)
    customer = _logged_in(monolith, "demo").get(f"{monolith}/staff/migration/figures/", timeout=10)
    page = _logged_in(monolith, "admin").get(f"{monolith}/staff/migration/", timeout=10)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]
    assert customer.status_code == 403
    assert page.status_code == 200
    assert "stage 0" in page.text and "dashboard/migration.js" in page.text


def test_metrics_are_at_each_process_and_never_through_the_facade(shop):
    through_facade = requests.get(f"{shop.url}metrics", timeout=10)
    direct = {
        name: requests.get(f"http://{stack.address(name, shop.env)}/metrics", timeout=10)
        for name in ("monolith", "catalog", "payments")
    }

    assert through_facade.status_code == 404
    assert through_facade.headers["X-Served-By"] == "facade"
    for name, response in direct.items():
        assert response.status_code == 200, name
        assert "django_http_responses_before_middlewares_total" in response.text, name


def _logged_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": username, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return session


def _figures(session: requests.Session, base: str) -> dict:
    response = session.get(f"{base}/staff/migration/figures/", timeout=10)
    assert response.status_code == 200, response.text
    return {process["name"]: process for process in response.json()["processes"]}


def _new_orders(shop) -> set[tuple[str, str]]:
    """(number, status) of the orders `shop load` placed (their emails are shopper-...@example.com)."""
    with psycopg2.connect(shop.env["DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT number, status FROM orders_order WHERE email LIKE 'shopper-%%@example.com'")
        rows = set(cursor.fetchall())
    connection.close()
    return rows
