"""Stopping the shop always works: Ctrl-C, a closed terminal (SIGHUP), SIGTERM, `make up | tee`
then Ctrl-C, SIGKILL of `shop up`, and `shop down` from another terminal each leave no process of
the shop running and every port free within 10 s.

Each test runs the quick start's `shop up` (its own PostgreSQL in the run folder, which they
share) at free ports, notes every process of the shop (each process group `shop up` started:
nginx's and gunicorn's workers, PostgreSQL's backends), stops it one way, and waits for them to go.
"""

import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shopctl import ShopError, kit, stack, state
from tests.e2e.conftest import quickstart_env

pytestmark = pytest.mark.e2e

STOPPED_WITHIN = 10  # seconds
READY_WITHIN = 180  # seconds; the first start makes the cluster and migrates three databases
SHOP_UP = [sys.executable, "-m", "shopctl", "up"]


@pytest.fixture(scope="module")
def run_dir() -> Iterator[Path]:
    with kit.reachable_run_dir() as folder:
        yield folder


@pytest.fixture
def env(run_dir) -> dict[str, str]:
    """The quick start's environment (no database URL) at free ports of its own."""
    base = {name: value for name, value in os.environ.items() if not name.endswith("DATABASE_URL")}
    return {**base, **quickstart_env(run_dir)}


def test_ctrl_c_stops_everything(env, run_dir):
    # The terminal sends SIGINT to its foreground process group: `shop up` alone, as its processes
    # run in groups of their own.
    shop_up = _start(SHOP_UP, env, run_dir)
    _stops(env, run_dir, shop_up, lambda: os.killpg(shop_up.pid, signal.SIGINT))


def test_sigterm_stops_everything(env, run_dir):
    shop_up = _start(SHOP_UP, env, run_dir)
    _stops(env, run_dir, shop_up, lambda: os.kill(shop_up.pid, signal.SIGTERM))


def test_sigkill_of_shop_up_stops_everything(env, run_dir):
    # Nothing of `shop up` runs after SIGKILL: its processes stop because the kernel tells them.
    shop_up = _start(SHOP_UP, env, run_dir)
    _stops(env, run_dir, shop_up, lambda: os.kill(shop_up.pid, signal.SIGKILL))


def test_closing_the_terminal_stops_everything(env, run_dir):
    """`shop up` in a real pseudo-terminal, as its controlling process; closing the terminal's
    side hangs it up (SIGHUP to `shop up`, and every later write to the terminal fails)."""
    terminal, pty_side = os.openpty()
    reading = threading.Event()
    reading.set()

    def read_terminal() -> None:  # a terminal shows what it is given, so the writer never blocks
        while reading.is_set():
            if select.select([terminal], [], [], 0.1)[0]:
                try:
                    os.read(terminal, 65536)
                except OSError:
                    return

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    shop_up = subprocess.Popen(
        SHOP_UP,
        cwd=stack.REPO,
        env=env,
        stdin=pty_side,
        stdout=pty_side,
        stderr=pty_side,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(pty_side)

    def close_terminal() -> None:
        reading.clear()
        reader.join()  # a read under way would keep the terminal open
        os.close(terminal)

    _wait_until_ready(env, run_dir, shop_up)
    _stops(env, run_dir, shop_up, close_terminal)


def test_ctrl_c_on_make_up_piped_into_tee_stops_everything(env, run_dir, tmp_path):
    """Ctrl-C reaches make, `shop up` and tee at once; tee gone, `shop up` writes into a pipe
    with no reader, and must stop its processes all the same."""
    log = tmp_path / "shop.log"
    shop_up = _start(["sh", "-c", f"make -s up | tee {log}"], env, run_dir)
    _stops(env, run_dir, shop_up, lambda: os.killpg(shop_up.pid, signal.SIGINT))
    assert "facade started" in log.read_text()  # tee had the output until Ctrl-C


def test_shop_down_from_another_terminal_stops_everything(env, run_dir):
    """And meanwhile, from that terminal: a second `shop up` says in one line that one runs, and
    `shop status | head -1` prints its line quietly."""
    shop_up = _start(SHOP_UP, env, run_dir)
    # Another terminal: nothing set but the run folder, which the quick start's is by default.
    other = {"PATH": os.environ["PATH"], "SHOP_RUN_DIR": str(run_dir)}

    second = _shop(["up"], other)
    assert second.returncode != 0
    assert second.stderr.count("\n") == 1 and "already running" in second.stderr, second.stderr
    piped = subprocess.run(
        f"{sys.executable} -m shopctl status | head -1",
        shell=True,
        cwd=stack.REPO,
        env=other,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout.startswith("stage 0") and piped.stderr == "", piped.stderr

    _stops(env, run_dir, shop_up, lambda: _shop(["down"], other).check_returncode())
    after = _shop(["status"], other)
    assert after.returncode != 0 and after.stderr.count("\n") == 1 and "no shop is running" in after.stderr


def _shop(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "shopctl", *args],
        cwd=stack.REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _start(argv: list[str], env: dict[str, str], run_dir: Path) -> subprocess.Popen:
    """argv in a session of its own (as from a terminal of its own), its output in the run folder."""
    with open(run_dir / "shop.log", "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=stack.REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _wait_until_ready(env, run_dir, process)
    return process


def _wait_until_ready(env: dict[str, str], run_dir: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while not stack.answers(stack.url(["facade"], env) + "readyz"):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            tail = "\n".join((run_dir / "shop.log").read_text(errors="replace").splitlines()[-40:])
            pytest.fail(f"the shop did not get ready (exit code {process.poll()}):\n{tail}", pytrace=False)
        time.sleep(0.25)


def _stops(env: dict[str, str], run_dir: Path, shop_up: subprocess.Popen, stop: Callable[[], None]) -> None:
    """Stop the shop with stop(); fail unless every process of it has gone and every port is free
    within STOPPED_WITHIN seconds."""
    recorded = state.running(run_dir)
    assert recorded, "the running shop is not recorded in the run folder"
    groups = {pid for shop in recorded["shops"].values() for pid in shop["processes"].values()}
    assert len(groups) == len(stack.processes()) + 1, recorded  # and PostgreSQL
    assert _alive(groups), "the shop's processes are not running"
    stopped_at = time.monotonic()
    stop()
    while _alive(groups) or not _ports_free(env):
        if time.monotonic() - stopped_at > STOPPED_WITHIN:
            for pid in _alive(groups):  # leave nothing behind for the next test
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"still running {STOPPED_WITHIN} s after the stop: {_describe(_alive(groups))}", pytrace=False)
        time.sleep(0.1)
    shop_up.wait(timeout=STOPPED_WITHIN)
    print(f"stopped in {time.monotonic() - stopped_at:.1f} s")


def _alive(groups: set[int]) -> dict[int, str]:
    """The processes (pid: command name) in the given process groups, zombies aside."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if int(fields[2]) in groups and fields[0] != "Z":
            found[int(stat.parent.name)] = name
    return found


def _describe(processes: dict[int, str]) -> str:
    return ", ".join(f"{name} (pid {pid})" for pid, name in sorted(processes.items()))


def _ports_free(env: dict[str, str]) -> bool:
    try:
        stack.check_ports_free(stack.servers(), env)
    except ShopError:
        return False
    return True
