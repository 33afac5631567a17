"""The run state (shopctl/state.py): a `shop up` claims its processes, records what it runs with,
and the record counts only while a `shop up` holds the locks, however that one ended."""

import json
import os
import stat
import subprocess
import sys

import pytest

from shopctl import ShopError, stack, state

NAMES = ["facade", "monolith"]
ENV = {"FACADE_ADDR": "127.0.0.1:18080", "DATABASE_URL": "postgres://postgres@/shop_monolith?host=/x", "HOME": "/root"}


@pytest.fixture(autouse=True)
def release_locks():
    yield
    while state._held:  # what this test's `shop up` would release by exiting
        os.close(state._held.pop())


def test_a_claimed_shop_is_recorded_and_read_back_privately(tmp_path):
    state.claim(tmp_path, NAMES)
    state.record(tmp_path, NAMES, {"facade": 11, "monolith": 12}, ENV)

    running = state.running(tmp_path)
    assert running["environment"] == {name: ENV[name] for name in ("FACADE_ADDR", "DATABASE_URL")}
    assert running["shops"][str(os.getpid())]["processes"] == {"facade": 11, "monolith": 12}
    assert stat.S_IMODE((tmp_path / state.FILE).stat().st_mode) == 0o600


def test_a_second_claim_of_a_running_process_says_so_in_one_line(tmp_path):
    state.claim(tmp_path, NAMES)
    state.record(tmp_path, NAMES, {}, ENV)
    with pytest.raises(ShopError) as caught:
        state.claim(tmp_path, ["monolith"])
    assert "already running" in str(caught.value) and "\n" not in str(caught.value)
    assert state.try_claim(tmp_path, "catalog")  # another process of the same run folder may start


def test_the_environment_of_the_running_shop_fills_in_what_is_not_set(tmp_path):
    state.claim(tmp_path, NAMES)
    state.record(tmp_path, NAMES, {}, ENV)
    env = {"FACADE_ADDR": "127.0.0.1:9999"}
    state.apply(tmp_path, env)
    assert env == {"FACADE_ADDR": "127.0.0.1:9999", "DATABASE_URL": ENV["DATABASE_URL"]}


def test_a_record_whose_shop_up_was_killed_counts_as_no_shop(tmp_path):
    # A `shop up` in another process, SIGKILLed after recording: it could not forget itself.
    script = (
        "import sys; from pathlib import Path; from shopctl import state; run = Path(sys.argv[1]); "
        "state.claim(run, ['facade']); state.record(run, ['facade'], {}, {'FACADE_ADDR': '127.0.0.1:1'}); "
        "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    assert json.loads((tmp_path / state.FILE).read_text())["shops"]  # left behind
    assert state.running(tmp_path) is None
    assert state.apply(tmp_path, {}) is None
    state.claim(tmp_path, ["facade"])  # the killed one's lock went with it


def test_forgetting_the_last_shop_removes_the_record(tmp_path):
    state.claim(tmp_path, NAMES)
    state.record(tmp_path, NAMES, {}, ENV)
    state.forget(tmp_path)
    assert not (tmp_path / state.FILE).exists()
    assert state.running(tmp_path) is None


def test_a_relative_run_folder_is_made_absolute(monkeypatch, tmp_path):
    """nginx would read a relative one from its own prefix, and a service's `shop up` from its folder."""
    monkeypatch.chdir(tmp_path)

    assert stack.run_dir({"SHOP_RUN_DIR": "run"}) == tmp_path / "run"
