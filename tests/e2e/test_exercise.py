"""`shop exercise`, the failure exercises (shopctl/exercise.py), run as a teacher runs them.

payments-down at stage 2, shortened: a fresh shop of its own, shoppers throughout, the payments
service stopped for a window and started again. The command asserts the data check itself (its
exit code); this test checks what it wrote: nothing lost, browsing and the cart untouched by the
fault, and the fault proved by the payments that waited for the relay and were paid after. The
figures are printed, never asserted as timings.
"""

import json
import subprocess
import sys

import pytest

from shopctl import stack

pytestmark = pytest.mark.e2e

BROWSING_AND_CART = ("home", "category", "search", "product", "cart-add", "cart")


def shop_exercise(*args, timeout=60):
    """`shop exercise ARGS`; on timeout it gets SIGTERM (which stops its shop), not SIGKILL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "shopctl", "exercise", *args],
        cwd=stack.REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        stdout, stderr = process.communicate(timeout=60)
        pytest.fail(f"shop exercise {' '.join(args)} took more than {timeout} s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_payments_down_at_stage_2_loses_nothing_and_browsing_never_notices(tmp_path):
    out = tmp_path / "report"
    done = shop_exercise(
        "payments-down", "--stage", "2", "--duration", "45", "--users", "10", "--out", str(out), timeout=600
    )
    print(done.stdout[-4000:], done.stderr[-4000:])

    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    check = results["data_check"]["2"]
    assert (check["lost"], check["charged_twice"], check["stock_exact"]) == (0, 0, True), check
    during = results["during_fault"]["2"]
    print("during the fault:", json.dumps(during, indent=1))
    assert sum(during.get(page, {}).get("requests", 0) for page in BROWSING_AND_CART) > 0
    assert {page: during[page]["failures"] for page in BROWSING_AND_CART if page in during} == dict.fromkeys(
        (page for page in BROWSING_AND_CART if page in during), 0
    )
    # The fault happened: payments waited while the service was down, and the relay paid them after.
    pending = [point["pending"] or 0 for point in results["pending_payments"]["2"]]
    assert max(pending) > 0, pending
    assert check["paid_after_waiting"] > 0, check
    assert (out / "timeline.png").stat().st_size > 0
    assert "Second by second" in (out / "report.md").read_text()


def test_the_list_describes_every_exercise():
    listed = shop_exercise("--list")
    print(listed.stdout)
    assert listed.returncode == 0
    for name in ("catalog-down", "catalog-slow", "payments-down", "payments-flaky", "relay-down", "restart"):
        assert f"\n{name}\n" in f"\n{listed.stdout}"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nope", "--stage", "2"], 1, "There is no exercise 'nope'"),
        (["payments-down", "--stage", "1"], 1, "--stage must be 0 or 2"),
        (["payments-down"], 1, "--stage must be 0 or 2"),
        (["relay-down", "--stage", "0", "--users", "0"], 1, "--users must be"),
        (["payments-down", "--stage", "2", "--duration", "5"], 1, "--duration must be"),
    ],
)
def test_bad_input_gets_a_clear_error(args, code, message):
    done = shop_exercise(*args)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr
