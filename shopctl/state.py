"""The run state: what the running shop was started with, so that every later `shop` command acts on
it from any terminal, with no environment set.

`shop up` writes <run folder>/shop.json (mode 0600): its addresses, its database URLs (the private
PostgreSQL's, when it runs one), the run folder, and its own pid and its processes' pids. Whether a
shop is running is not read from the pids, which outlive nothing reliably: each `shop up` holds an
flock on <run folder>/running/<process>.lock for each process it runs, which the kernel releases
however it ends (SIGKILL too). So a second `shop up` of the same processes finds them held and says
so, and a stale shop.json (its locks free) counts as no shop.

Several `shop up` may share a run folder when each runs other processes (`shop up catalog` beside
`shop up facade monolith`): shop.json keeps an entry for each.
"""

import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from pathlib import Path

from shopctl import ShopError
from shopctl.nginx import SETTING_DEFAULTS

FILE = "shop.json"
LOCKS = "running"
# What a later command takes from the record, unless its own environment sets it.
RECORDED = (
    "FACADE_ADDR",
    "MONOLITH_ADDR",
    "CATALOG_ADDR",
    "PAYMENTS_ADDR",
    "DATABASE_URL",
    "CATALOG_DATABASE_URL",
    "PAYMENTS_DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    # The facade's rate limits and microcache switch: `shop stage N` renders the facade again, with
    # the settings it started with.
    *SETTING_DEFAULTS,
)

_held: list[int] = []  # the lock files this process holds, open as long as it runs


def claim(run_dir: Path, names: Iterable[str]) -> None:
    """Lock each of the processes `names` in run_dir for this `shop up`; ShopError (one line) when
    a running shop already runs one of them."""
    for name in names:
        if not try_claim(run_dir, name):
            raise ShopError(f"a shop is already running ({_describe(run_dir)}): `shop down` stops it.")


def try_claim(run_dir: Path, name: str) -> bool:
    """Lock process `name` in run_dir for this `shop up`, as long as it runs; False if another holds it."""
    folder = run_dir / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    _held.append(descriptor)
    return True


def record(run_dir: Path, names: Iterable[str], pids: Mapping[str, int], env: Mapping[str, str]) -> None:
    """Add this `shop up` and what it runs with to run_dir/shop.json."""
    with _locked(run_dir):
        # What a `shop up` that has gone left behind is dropped, its environment too.
        state = running(run_dir) or {}
        # An entry of the processes this `shop up` holds is one whose `shop up` was killed.
        shops = {pid: shop for pid, shop in state.get("shops", {}).items() if not set(shop["names"]) & set(names)}
        state["shops"] = shops
        state["run_dir"] = str(run_dir.resolve())
        state.setdefault("environment", {}).update({name: env[name] for name in RECORDED if env.get(name)})
        state.setdefault("shops", {})[str(os.getpid())] = {"names": list(names), "processes": dict(pids)}
        _write(run_dir, state)


def forget(run_dir: Path) -> None:
    """Take this `shop up` out of run_dir/shop.json (the file goes with the last one)."""
    with _locked(run_dir):
        state = _read(run_dir)
        state.get("shops", {}).pop(str(os.getpid()), None)
        if state.get("shops"):
            _write(run_dir, state)
        else:
            (run_dir / FILE).unlink(missing_ok=True)


def running(run_dir: Path) -> dict | None:
    """The record of the shop running in run_dir, with only its live `shop up`s; None if none runs."""
    state = _read(run_dir)
    shops = {
        pid: shop
        for pid, shop in state.get("shops", {}).items()
        if Path(f"/proc/{pid}").exists() and _running(run_dir, shop["names"])
    }
    if not shops:
        return None
    return {**state, "shops": shops}


def apply(run_dir: Path, env: dict[str, str] = os.environ) -> dict | None:
    """Give env what the running shop was started with, where env does not set it; the record."""
    state = running(run_dir)
    for name, value in (state or {}).get("environment", {}).items():
        env.setdefault(name, value)
    return state


def no_shop(run_dir: Path) -> ShopError:
    return ShopError(f"no shop is running in {run_dir} (`make up` or `shop up` starts one).")


def _running(run_dir: Path, names: Iterable[str]) -> bool:
    """Whether some `shop up` holds the lock of one of the processes."""
    for name in names:
        try:
            descriptor = os.open(run_dir / LOCKS / f"{name}.lock", os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(descriptor)  # also releases the lock if we got it
    return False


def _describe(run_dir: Path) -> str:
    state = running(run_dir)
    if not state:
        return f"in {run_dir}"
    pids = ", ".join(sorted(state["shops"]))
    facade = state.get("environment", {}).get("FACADE_ADDR")
    return f"`shop up` pid {pids}" + (f", at http://{facade}/" if facade else "")


@contextmanager
def _locked(run_dir: Path):
    # Writers of shop.json take turns; readers see a whole file thanks to the rename in _write.
    descriptor = os.open(run_dir / LOCKS / "shop.json.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _read(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write(run_dir: Path, state: dict) -> None:
    temporary = run_dir / f".{FILE}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(state, file, indent=2)
        file.write("\n")
    os.replace(temporary, run_dir / FILE)
