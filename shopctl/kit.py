"""What the comparison kit's commands (`shop compare`, `shop exercise`) share: a fresh shop of their own.

Each measured shop starts from nothing, so that every stage is measured on data seeded alike: a
new run folder (its own private PostgreSQL, initdb'd and seeded by `shop up`), free ports, so it
never collides with the class's shop on the contract's ports, and only the processes the stage
serves with (stack.needed), so that CPU and memory compare like with like. The facade's rate
limits are lifted: the kit loads the shop from one address on purpose.

    with fresh_shop(2, Path("results/x/stage-2")) as shop:
        requests.get(shop.url + "api/catalog/products/")
"""

import contextlib
import importlib
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path

from shopctl import ShopError, nginx, postgres, stack, state
from shopctl.background import BackgroundShop

READY_WITHIN = 180  # seconds: initdb, migrations, seeding and, from stage 1 on, the data moves
# What every measured shop runs with: no rate limits, and the local run's settings whatever the
# caller's are (a test run's DJANGO_SETTINGS_MODULE is the test settings).
MEASURED = {**nginx.UNLIMITED, "DJANGO_SETTINGS_MODULE": "monolith.settings.local"}


@contextlib.contextmanager
def fresh_shop(
    stage: int,
    folder: Path,
    *,
    names: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[BackgroundShop]:
    """`shop up --stage <stage>` in folder (its run folder folder/run, its output folder/shop.log),
    ready to serve; stopped, with its database, when the block ends.

    names: the processes to run (default: those the stage needs); env: more variables for it."""
    folder = folder.resolve()  # nginx reads a relative run folder from its own
    folder.mkdir(parents=True, exist_ok=True)
    addresses = {f"{name.upper()}_ADDR": stack.free_address() for name in stack.DEFAULT_ADDRESSES}
    shop = BackgroundShop(
        list(names) or stack.needed(stage),
        stage=stage,
        env={**MEASURED, **addresses, "SHOP_RUN_DIR": str(folder / "run"), **(env or {})},
        # Its own databases in its own cluster, never the caller's.
        without=postgres.DATABASES,
        log_path=folder / "shop.log",
    )
    with shop:
        shop.wait_until_ready(timeout=READY_WITHIN)
        for name in stack.servers(shop.names):
            _wait_for(f"http://{stack.address(name, shop.env)}/readyz")
        yield shop


def _wait_for(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not stack.answers(url):
        if time.monotonic() > deadline:
            raise ShopError(f"{url} did not answer 200 within {within:.0f} s.")
        time.sleep(0.25)


class SeparateShop:
    """A fresh shop whose processes each run under their own `shop up NAME`, in one run folder, so
    that one can be stopped and started again alone while the others serve (under one `shop up`,
    the supervisor stops every process when one stops). What the failure exercises break.

    The facade's `shop up` comes first and runs the run folder's PostgreSQL (shopctl.stack
    start_databases: the first `shop up` of a folder runs it), so the facade is never stopped
    before the rest; every later `shop up` finds the data seeded and at the stage already.
    """

    def __init__(self, stage: int, folder: Path, names: Sequence[str], env: Mapping[str, str] | None = None):
        self.stage, self.folder = stage, folder.resolve()  # nginx reads a relative run folder from its own
        self.names = list(names)
        if self.names[0] != "facade":
            raise ShopError("A separate shop starts with the facade, whose `shop up` runs the database.")
        addresses = {f"{name.upper()}_ADDR": stack.free_address() for name in stack.DEFAULT_ADDRESSES}
        self.shop_env = {**MEASURED, **addresses, "SHOP_RUN_DIR": str(self.folder / "run"), **(env or {})}
        self.shops = {name: self._shop(name) for name in self.names}
        self.env = self.shops["facade"].env
        self.url = stack.url(self.names, self.env)
        self.run_dir = stack.run_dir(self.env)

    def _shop(self, name: str) -> BackgroundShop:
        return BackgroundShop(
            [name],
            stage=self.stage,
            env=self.shop_env,
            without=postgres.DATABASES,
            log_path=self.folder / f"{name}.log",
        )

    def start(self, name: str) -> None:
        """`shop up NAME` (again), and wait until it serves."""
        shop = self.shops[name] = self._shop(name)
        shop.start()
        # Started once its `shop up` has recorded itself: the database up, the data seeded and at
        # the stage, the process running. The facade is then as ready as it can be before the
        # monolith behind it; the relay, which listens nowhere, is at work.
        deadline = time.monotonic() + READY_WITHIN
        while not _records(self.run_dir, name):
            if shop._process.poll() is not None or time.monotonic() > deadline:
                raise ShopError(f"`shop up {name}` did not start; see {shop.log_path}.")
            time.sleep(0.25)
        if name in stack.DEFAULT_ADDRESSES and name != "facade":
            _wait_for(f"http://{stack.address(name, self.env)}/readyz", within=READY_WITHIN)

    def stop(self, name: str) -> None:
        self.shops[name].stop()

    def __enter__(self) -> "SeparateShop":
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.names:
                self.start(name)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        # The facade last: its `shop up` runs the database the others use.
        for name in reversed(self.names):
            self.shops[name].stop()


def separate_shop(stage: int, folder: Path, *, names: Sequence[str] = (), env=None) -> SeparateShop:
    """As fresh_shop(), with each process under its own `shop up` (SeparateShop): a context manager."""
    return SeparateShop(stage, folder, list(names) or stack.needed(stage), env)


def _records(run_dir: Path, name: str) -> bool:
    running = state.running(run_dir) or {}
    return any(name in shop["names"] for shop in running.get("shops", {}).values())


def machine() -> dict:
    """The machine a report was measured on, and how busy it was when the run began."""
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal:")).split()[1])
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def versions() -> dict:
    """What the measured shop ran: the main packages, nginx, PostgreSQL and each gunicorn's workers x threads."""
    found = {}
    for package in ("Django", "gunicorn", "locust", "djangorestframework"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    found["nginx"] = _first_line([shutil.which("nginx") or "nginx", "-v"]).removeprefix("nginx version: nginx/")
    with contextlib.suppress(ShopError):
        command = [str(postgres.cluster(Path("/tmp")).bin / "postgres"), "--version"]
        found["PostgreSQL"] = _first_line(command).removeprefix("postgres (PostgreSQL) ")
    found["gunicorn workers x threads"] = ", ".join(
        f"{name} {config.workers} x {config.threads}" for name, config in _gunicorn_configs().items()
    )
    return found


def _gunicorn_configs():
    configs = {}
    for name, spec in stack.GUNICORN_CONFIGS.items():
        with contextlib.suppress(ImportError):
            configs[name] = importlib.import_module(spec.removeprefix("python:"))
    return configs


def _first_line(command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "not found"
    return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"


@contextlib.contextmanager
def reachable_run_dir(prefix: str = "shop-run-") -> Iterator[Path]:
    """A new run folder that the postgres user can reach when this runs as root (a temporary folder
    is private to root, and the cluster would go to the postgres user's home instead): its PostgreSQL
    lives, and is deleted, with it."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    run_dir.chmod(0o755)
    try:
        yield run_dir
    finally:
        postgres.remove(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
