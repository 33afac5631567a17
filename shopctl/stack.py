"""The shop's processes at each stage, and the one way they start: prepare, then run under honcho.

`shop up` calls prepare() and run(); the end-to-end tests and the benchmarks start `shop up`
itself (shopctl.background), so every way of running the shop goes through here.
"""
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import requests
from honcho.manager import Manager

from shopctl import ShopError, nginx

REPO = Path(__file__).resolve().parent.parent

# The contract's defaults; each is overridden by <NAME>_ADDR in the environment.
DEFAULT_ADDRESSES = {
    "facade": "127.0.0.1:8080",
    "monolith": "127.0.0.1:8001",
    "catalog": "127.0.0.1:8002",
    "payments": "127.0.0.1:8003",
}

# The contract's stages: the URL prefixes the facade sends to an extracted service. Every
# other path goes to the monolith.
STAGE_ROUTES = {
    0: {},
    1: {"/api/catalog/": "catalog"},
    2: {"/api/catalog/": "catalog", "/api/payments/": "payments"},
}
BUILT_STAGES = (0, 1)

# The WSGI application each Django process serves.
WSGI_APPS = {"monolith": "monolith.wsgi:application", "catalog": "catalog_service.wsgi:application"}

# Where each Django project lives (its manage.py and the working directory of its processes),
# and its gunicorn settings: the catalog service has its own copy (its image has no shopctl).
CATALOG_DIR = REPO / "extracted" / "catalog"
PROJECT_DIRS = {"monolith": REPO, "catalog": CATALOG_DIR}
GUNICORN_CONFIGS = {"monolith": "python:shopctl.gunicorn_config", "catalog": "python:catalog_service.gunicorn_config"}
# How long the catalog service started for the data move may take to answer /readyz.
CATALOG_READY_WITHIN = 60  # seconds


def address(name: str, env: Mapping[str, str] = os.environ) -> str:
    return env.get(f"{name.upper()}_ADDR", DEFAULT_ADDRESSES[name])


def run_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where runtime files go: the rendered nginx config, its pid and temp files, the stage."""
    return Path(env.get("SHOP_RUN_DIR", REPO / ".run"))


def processes(stage: int) -> list[str]:
    """The processes a stage runs, facade first."""
    return ["facade", "monolith", *sorted(set(STAGE_ROUTES[stage].values()))]


def url(names: Iterable[str], env: Mapping[str, str] = os.environ) -> str:
    """Where the given processes answer a user: the facade's address if it is among them, else
    the monolith's, else (a service started alone) the first one's."""
    names = list(names)
    first = next((name for name in ("facade", "monolith") if name in names), names[0] if names else "monolith")
    return f"http://{address(first, env)}/"


def environment(name: str, stage: int, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of process `name` (and of its manage.py) at `stage`.

    The catalog service gets its own database, CATALOG_DATABASE_URL, or else its local default,
    an SQLite file in the run folder: never the monolith's DATABASE_URL. From stage 1 the monolith
    reads the catalog over HTTP from the catalog service.
    """
    result = dict(env)
    if name == "catalog":
        result.pop("DATABASE_URL", None)
        if env.get("CATALOG_DATABASE_URL"):
            result["DATABASE_URL"] = env["CATALOG_DATABASE_URL"]
        result["DJANGO_SETTINGS_MODULE"] = "catalog_service.settings.local"
        result["SHOP_RUN_DIR"] = str(run_dir(env))
    elif name == "monolith" and "catalog" in STAGE_ROUTES[stage].values():
        result["CATALOG_BACKEND"] = "remote"
        result["CATALOG_SERVICE_URL"] = f"http://{address('catalog', env)}"
    return result


def answers(url: str) -> bool:
    """True when url answers 200 now."""
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def check_ports_free(names: Iterable[str], env: Mapping[str, str] = os.environ) -> None:
    """ShopError naming the first address among the processes' that something already listens on."""
    for name in names:
        host, port = address(name, env).rsplit(":", 1)
        with socket.socket() as probe:
            # As nginx and gunicorn do, so that a port in TIME_WAIT does not count as taken.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, int(port)))
            except OSError as error:
                raise ShopError(
                    f"{host}:{port} ({name.upper()}_ADDR) is already in use ({error.strerror}). "
                    f"Stop whatever listens there (`ss -ltnp 'sport = :{port}'` shows it) "
                    f"or set {name.upper()}_ADDR to another address."
                ) from None


def prepare(stage: int, names: list[str]) -> None:
    """Everything before the processes start: free ports, the facade's config, the databases and,
    with the catalog service, the catalog moved into it."""
    check_ports_free(names)
    directory = run_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Read by `shop status`, which has no other way to know what was started.
    (directory / "stage").write_text(f"{stage}\n")
    if "facade" in names:
        addresses = {name: address(name) for name in DEFAULT_ADDRESSES}
        nginx.render(directory / "nginx", STAGE_ROUTES[stage], addresses)
        nginx.check(directory / "nginx")
    # The catalog's data move reads the monolith's database, so that is prepared for it too.
    if "monolith" in names or "catalog" in names:
        _manage("monolith", stage, "migrate", "--noinput")
        _manage("monolith", stage, "seed_shop")
    if "catalog" in names:
        _manage("catalog", stage, "migrate", "--noinput")
        _manage("catalog", stage, "seed_catalog")
        _push_catalog(stage)


def _push_catalog(stage: int) -> None:
    """Move the monolith's catalog into the catalog service, once (`manage.py catalog_push`).

    catalog_push talks to the service over HTTP, so the service runs for it: a gunicorn of its own,
    stopped again before honcho starts the processes. Doing the move here, before anything serves,
    means no process ever answers from a catalog service that does not yet hold the monolith's
    catalog. That gunicorn listens at a free port of its own, not at CATALOG_ADDR, so that nothing
    waiting for the catalog's /readyz takes it for the real process.

    Only the first move: from stage 1 on the service owns the catalog (prices edited through
    /api/catalog/, stock reserved by orders), and pushing the monolith's copy again at every start
    would undo that. So the push runs while this run folder has no record of a completed move into
    this catalog database, or while the service holds no products (a database made afresh); an
    interrupted move is finished by the next start. `manage.py catalog_pull` brings the service's
    changes back, by hand.
    """
    record = run_dir() / "catalog-moved"
    database = os.environ.get("CATALOG_DATABASE_URL") or "the catalog service's local SQLite file"
    move_address = f"127.0.0.1:{_free_port()}"
    print(f"Starting the catalog service at {move_address} for the catalog's move.", flush=True)
    service = subprocess.Popen(
        [*_command("catalog", bind=move_address), "--workers", "1"],
        cwd=PROJECT_DIRS["catalog"], env=environment("catalog", stage),
        # Its access log (stdout) would list every row of the move; its errors (stderr) stay. In
        # the process group of `shop up`, so that Ctrl-C (or BackgroundShop.stop) reaches it too.
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    try:
        service_url = f"http://{move_address}"
        deadline = time.monotonic() + CATALOG_READY_WITHIN
        while not answers(f"{service_url}/readyz"):
            if service.poll() is not None:
                raise ShopError(f"The catalog service exited with code {service.returncode} at start; its output is above.")
            if time.monotonic() > deadline:
                raise ShopError(f"The catalog service did not answer {service_url}/readyz within {CATALOG_READY_WITHIN} s.")
            time.sleep(0.25)
        try:
            held = requests.get(f"{service_url}/api/catalog/products/", params={"page_size": 1}, timeout=10).json()["count"]
        except (requests.RequestException, ValueError, KeyError) as error:
            raise ShopError(f"The catalog service did not say how many products it holds ({error}).") from None
        if held and record.exists() and record.read_text() == database:
            print(
                f"The catalog service already holds its catalog ({held} products), moved there by an earlier "
                "`shop up`; it is not overwritten with the monolith's (`manage.py catalog_push` does that by hand).",
                flush=True,
            )
            return
        _manage("monolith", stage, "catalog_push", "--to", service_url)
        record.write_text(database)
    finally:
        if service.poll() is None:
            service.terminate()
            try:
                service.wait(timeout=10)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()


def run(names: list[str], when_ready: Callable[[], None], stage: int = 0) -> int:
    """Run the processes in the foreground until Ctrl-C or until one stops; returns the exit code.

    when_ready is called once, from another thread, when the shop first answers /readyz.
    """
    manager = Manager()
    for name in names:
        # exec: honcho starts each command with a shell; without exec, signals reach a shell.
        manager.add_process(
            name, "exec " + shlex.join(_command(name)),
            env=environment(name, stage), cwd=str(PROJECT_DIRS.get(name, REPO)),
        )
    threading.Thread(target=_call_when_ready, args=(url(names) + "readyz", when_ready), daemon=True).start()
    manager.loop()
    return manager.returncode


def _command(name: str, bind: str | None = None) -> list[str]:
    if name == "facade":
        return nginx.command(run_dir() / "nginx")
    return [
        sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIGS[name],
        "--bind", bind or address(name), WSGI_APPS[name],
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(name: str, stage: int, *args: str) -> None:
    """`manage.py <args>` of process name's project, with that process's environment."""
    command = [sys.executable, "manage.py", *args]
    if subprocess.run(command, cwd=PROJECT_DIRS[name], env=environment(name, stage)).returncode != 0:
        where = "" if name == "monolith" else f" (in {PROJECT_DIRS[name].relative_to(REPO)})"
        raise ShopError(f"`{shlex.join(command[1:])}`{where} failed; its output is above.")


def _call_when_ready(ready_url: str, callback: Callable[[], None]) -> None:
    # The thread is a daemon: when the processes never get ready, it ends with `shop up`.
    while not answers(ready_url):
        time.sleep(0.5)
    callback()
