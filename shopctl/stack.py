"""The shop's processes at each stage, and the one way they start: the databases, prepare, then run
under the supervisor (shopctl.supervisor).

`shop up` calls start_databases(), prepare() and run(); the end-to-end tests and the benchmarks
start `shop up` itself (shopctl.background), so every way of running the shop goes through here.
"""

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import requests

from monolith.strangler import stages
from shopctl import ShopError, nginx, postgres, state
from shopctl import secrets as run_secrets
from shopctl.supervisor import Supervisor, tied_to_parent

REPO = Path(__file__).resolve().parent.parent

# The contract's defaults; each is overridden by <NAME>_ADDR in the environment.
DEFAULT_ADDRESSES = {
    "facade": "127.0.0.1:8080",
    "monolith": "127.0.0.1:8001",
    "catalog": "127.0.0.1:8002",
    "payments": "127.0.0.1:8003",
}

# The contract's stages: the URL prefixes the facade sends to an extracted service, from the
# stage table (monolith/strangler/stages.py). Every other path goes to the monolith.
STAGE_ROUTES = {stage: stages.routes(stage) for stage in stages.STAGES}

# The extracted services: each runs beside the monolith at every stage, on its own database.
SERVICES = ("catalog", "payments")
# The WSGI application each Django process serves.
WSGI_APPS = {
    "monolith": "monolith.wsgi:application",
    "catalog": "catalog_service.wsgi:application",
    "payments": "payments_service.wsgi:application",
}

# Where each Django project lives (its manage.py and the working directory of its processes),
# and its gunicorn settings: each service has its own copy (its image has no shopctl).
CATALOG_DIR = REPO / "extracted" / "catalog"
PROJECT_DIRS = {"monolith": REPO, "catalog": CATALOG_DIR, "payments": REPO / "extracted" / "payments"}
GUNICORN_CONFIGS = {
    "monolith": "python:shopctl.gunicorn_config",
    "catalog": "python:catalog_service.gunicorn_config",
    "payments": "python:payments_service.gunicorn_config",
}
# What each service's database is seeded with (its admin/admin user in the local run).
SEED_COMMANDS = {"catalog": "seed_catalog", "payments": "seed_payments"}
# The variable naming each Django project's database (environment() gives a service its own as DATABASE_URL).
DATABASE_VARIABLES = {
    "monolith": "DATABASE_URL",
    "catalog": "CATALOG_DATABASE_URL",
    "payments": "PAYMENTS_DATABASE_URL",
}
# How long the services started for a data move may take to answer /readyz.
SERVICE_READY_WITHIN = 60  # seconds


def address(name: str, env: Mapping[str, str] = os.environ) -> str:
    return env.get(f"{name.upper()}_ADDR", DEFAULT_ADDRESSES[name])


def run_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where runtime files go: the rendered nginx config, its pid and temp files, the stage."""
    # Absolute: nginx would read a relative one from its own prefix.
    return Path(env.get("SHOP_RUN_DIR", REPO / ".run")).absolute()


def processes() -> list[str]:
    """The processes `shop up` runs, facade first: the monolith, every extracted service, and the
    payment relay (`manage.py payments_relay`, which delivers the payments a request could not settle
    and commits paid orders' stock in a catalog service).

    The extracted services run beside the monolith whatever the stage, so that the stage can
    change without a restart (`shop stage N`) and the two can be compared side by side.
    """
    return ["facade", "monolith", *SERVICES, "relay"]


def needed(stage: int) -> list[str]:
    """The processes stage `stage` serves with, no more: the facade and the monolith, the services
    the stage routes to (the stage table), and the relay once a service takes part (it settles
    payments and commits stock in another process). What the comparison kit runs at each stage,
    so that CPU and memory compare like with like."""
    services = set(stages.routes(stage).values())
    return [name for name in processes() if name in ("facade", "monolith", *services) or (name == "relay" and services)]


def servers(names: Iterable[str] = ()) -> list[str]:
    """Those of the processes (all, by default) that listen at an address of their own."""
    return [name for name in (names or processes()) if name in DEFAULT_ADDRESSES]


def url(names: Iterable[str], env: Mapping[str, str] = os.environ) -> str:
    """Where the given processes answer a user: the facade's address if it is among them, else
    the monolith's, else (a service started alone) the first one's."""
    names = [name for name in names if name in DEFAULT_ADDRESSES]
    first = next((name for name in ("facade", "monolith") if name in names), names[0] if names else "monolith")
    return f"http://{address(first, env)}/"


def environment(name: str, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment of process `name` (and of its manage.py).

    Each service gets its own database, CATALOG_DATABASE_URL or PAYMENTS_DATABASE_URL (which
    `shop up` sets to the private PostgreSQL's when they are not set, start_databases()): never the
    monolith's DATABASE_URL. The
    monolith knows where the services are; whether it uses them is the stage's business, which
    the monolith reads from its database (monolith/strangler/).
    """
    result = dict(env)
    if name != "facade":
        # Generated for this run folder (shopctl/secrets.py): no credential comes from the repository.
        result.update(run_secrets.for_process(name, run_secrets.load(run_dir(env), env)))
    if name in SERVICES:
        result.pop("DATABASE_URL", None)
        if env.get(f"{name.upper()}_DATABASE_URL"):
            result["DATABASE_URL"] = env[f"{name.upper()}_DATABASE_URL"]
        result["DJANGO_SETTINGS_MODULE"] = f"{name}_service.settings.local"
        result["SHOP_RUN_DIR"] = str(run_dir(env))
    else:  # the monolith and its relay
        result["CATALOG_SERVICE_URL"] = f"http://{address('catalog', env)}"
        result["PAYMENTS_SERVICE_URL"] = f"http://{address('payments', env)}"
        result["FACADE_STATUS_URL"] = f"unix:{nginx.status_socket(run_dir(env) / 'nginx')}"
    return result


def metrics_dir(name: str, env: Mapping[str, str] = os.environ) -> Path:
    """Where Django process `name`'s gunicorn workers keep their Prometheus counters
    (PROMETHEUS_MULTIPROC_DIR): emptied when its gunicorn starts (shopctl/gunicorn_config.py)."""
    return run_dir(env) / "metrics" / name


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


def prepare(stage: int | None, names: list[str]) -> int:
    """Everything before the processes start: free ports, the databases, the data at the owners
    of the stage asked for, the facade's config. Returns the stage the shop starts at: the one
    asked for, else the one recorded in the monolith's database (0 in a new one)."""
    check_ports_free(servers(names))
    run_dir().mkdir(parents=True, exist_ok=True)
    _manage("monolith", "migrate", "--noinput")
    _manage("monolith", "seed_shop")
    for service in SERVICES:
        _manage(service, "migrate", "--noinput")
        _manage(service, SEED_COMMANDS[service])
    recorded = recorded_stage()
    if stage is None:
        stage = recorded
    elif stage != recorded:
        _move_data(recorded, stage)
    if "facade" in names:
        nginx.clear_status_socket(run_dir() / "nginx")
        render_facade(stage)
    return stage


def recorded_stage(live: bool = False) -> int:
    """The stage recorded in the monolith's database (`manage.py set_stage` prints it); with
    live, ShopError first if the monolith's database cannot hold writers back (SQLite)."""
    return int(_manage("monolith", "set_stage", *(["--live"] if live else []), capture=True).strip())


def render_facade(stage: int) -> Path:
    """Write the facade's config for `stage` and check it with `nginx -t`; the config's folder."""
    prefix = run_dir() / "nginx"
    nginx.render(prefix, stage, {name: address(name) for name in DEFAULT_ADDRESSES})
    nginx.check(prefix)
    return prefix


def switch(stage: int) -> int:
    """Move the running shop to `stage`, a stage at a time; returns the stage it was at.

    Each step moves one context (0 ⇄ 1 the catalog, 1 ⇄ 2 payments): its data and ownership
    with `manage.py set_stage --live`, the facade's routes with a graceful reload. Their order
    keeps one rule: the facade sends a moved prefix straight to its service only while the
    service owns the context. (The monolith answers every prefix at every stage, passing a moved
    one on to its owner.) So forward, the data moves first and the routes follow; back, the
    routes go first, and once the old nginx workers are gone every write of the context passes
    the monolith's gate for the final copy. A failure at any step leaves a shop that works: at
    the old stage, or with the prefix passing through the monolith to its owner.
    """
    recorded = recorded_stage(live=True)
    if stage == recorded:
        print(f"The shop is at stage {stage} already: nothing to do.", flush=True)
        return recorded
    for name in servers():
        if not answers(f"http://{address(name)}/healthz"):
            raise ShopError(f"The {name} does not answer at {address(name)}: start the shop (`shop up`) first.")
    prefix = run_dir() / "nginx"
    direction = 1 if stage > recorded else -1
    for after in range(recorded + direction, stage + direction, direction):
        if direction > 0:
            _manage("monolith", "set_stage", str(after), "--live")
            render_facade(after)
            nginx.reload(prefix)
            print(f"Facade reloaded: {_routes(after)}.", flush=True)
        else:
            render_facade(after)
            nginx.reload(prefix)
            moving = ", ".join(sorted(STAGE_ROUTES[after + 1].keys() - STAGE_ROUTES[after].keys()))
            print(
                f"Facade reloaded: {_routes(after)}; the monolith passes {moving} on until the data is back.",
                flush=True,
            )
            _manage("monolith", "set_stage", str(after), "--live")
    return recorded


def reset_running() -> None:
    """Start the running shop over: back to stage 0 with the live switch (so the facade and the data
    are where stage 0 has them), then every deployable's data deleted and seeded afresh."""
    switch(0)
    _reseed(["monolith", *SERVICES])


def reset_stopped() -> str:
    """Start the stopped shop over; says what was done. The private PostgreSQL's cluster is deleted
    (`shop up` makes it afresh, at stage 0); a database of one's own (*DATABASE_URL) is emptied and
    seeded afresh, which records no stage, so stage 0."""
    removed = postgres.remove(run_dir()) if postgres.missing() else []
    for leftover in ("monolith.sqlite3", "catalog.sqlite3", "payments.sqlite3"):  # the SQLite quick start's
        (run_dir() / leftover).unlink(missing_ok=True)
    own = [name for name, variable in DATABASE_VARIABLES.items() if variable not in postgres.missing()]
    _reseed(own)
    owners = {"monolith": "the monolith", "catalog": "the catalog service", "payments": "the payments service"}
    done = [f"deleted {folder}" for folder in removed] + [
        f"{owners[name]}'s database emptied and seeded" for name in own
    ]
    return (
        f"The shop is reset ({'; '.join(done) or 'nothing to delete'}): "
        "`make up` starts it at stage 0 with fresh seed data."
    )


def _reseed(names: list[str]) -> None:
    for name in names:
        _manage(name, "migrate", "--noinput")
        _manage(name, "flush", "--noinput")
        _manage(name, SEED_COMMANDS.get(name, "seed_shop"))


def _routes(stage: int) -> str:
    moved = STAGE_ROUTES[stage]
    return ", ".join(f"{prefix} → {name}" for prefix, name in moved.items()) + (", " if moved else "") + "/ → monolith"


def _move_data(recorded: int, stage: int) -> None:
    """`manage.py set_stage <stage>` before anything serves, with services of its own.

    set_stage talks to the catalog and payments services over HTTP, so they run for it: a
    gunicorn of each, stopped again before the supervisor starts the processes. Each listens at a free
    port, not at its *_ADDR, so that nothing waiting for a /readyz takes it for the real process.
    """
    addresses = {service: free_address() for service in SERVICES}
    print(
        f"Moving the shop from stage {recorded} to stage {stage} before it starts (services for the move at "
        + ", ".join(f"{name} {where}" for name, where in addresses.items())
        + ").",
        flush=True,
    )
    started = {
        service: subprocess.Popen(
            [*_command(service, bind=where), "--workers", "1"],
            cwd=PROJECT_DIRS[service],
            env=environment(service),
            # Their access logs (stdout) would list every row of the move; their errors (stderr)
            # stay. In the process group of `shop up`, so that Ctrl-C (or BackgroundShop.stop)
            # reaches them too, and tied to it, so that they die with it however it dies.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=tied_to_parent(),
        )
        for service, where in addresses.items()
    }
    try:
        deadline = time.monotonic() + SERVICE_READY_WITHIN
        for service, process in started.items():
            while not answers(f"http://{addresses[service]}/readyz"):
                if process.poll() is not None:
                    raise ShopError(
                        f"The {service} service exited with code {process.returncode} at start; its output is above."
                    )
                if time.monotonic() > deadline:
                    raise ShopError(f"The {service} service did not answer /readyz within {SERVICE_READY_WITHIN} s.")
                time.sleep(0.25)
        _manage(
            "monolith",
            "set_stage",
            str(stage),
            *(option for service in SERVICES for option in (f"--{service}-url", f"http://{addresses[service]}")),
        )
    finally:
        for process in started.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def start_databases(supervisor: Supervisor) -> None:
    """Run the private PostgreSQL cluster (shopctl.postgres) when a deployable's *DATABASE_URL is
    not set, and set it in os.environ to that deployable's database there; explicit URLs win."""
    missing = postgres.missing()
    if not missing:
        return
    cluster = postgres.cluster(run_dir())
    # Several `shop up` of a run folder (`shop up catalog` beside `shop up facade monolith`) share
    # one cluster, which the first runs: it lives as long as that one does.
    if state.try_claim(run_dir(), "postgres"):
        postgres.initialise(cluster)
        process = supervisor.start(
            "postgres",
            cluster.command(),
            env=os.environ,
            cwd=cluster.data,
            user=cluster.user,
            # Fast shutdown (SIGINT) closes the connections left; the default (smart) waits for them.
            stop_signal=signal.SIGINT,
            last=True,
        )
    else:
        process = None
    postgres.wait_until_ready(cluster, process, on_wait=supervisor.flush_output)
    postgres.create_databases(cluster, [postgres.DATABASES[name] for name in missing])
    for name in missing:
        os.environ[name] = cluster.url(postgres.DATABASES[name])


def run(
    supervisor: Supervisor,
    names: list[str],
    when_started: Callable[[], None],
    when_ready: Callable[[], None],
) -> int:
    """Run the processes in the foreground until a signal comes or one stops; returns the exit code.

    when_started is called once they are started; when_ready once, from another thread, when the
    shop first answers /readyz.
    """
    for name in names:
        env = environment(name)
        if name in WSGI_APPS:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir(name))
        supervisor.start(name, _command(name), env=env, cwd=PROJECT_DIRS.get(name, REPO))
    when_started()
    threading.Thread(target=_call_when_ready, args=(url(names) + "readyz", when_ready), daemon=True).start()
    return supervisor.run()


def _command(name: str, bind: str | None = None) -> list[str]:
    if name == "facade":
        return nginx.command(run_dir() / "nginx")
    if name == "relay":
        return [sys.executable, "manage.py", "payments_relay"]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        GUNICORN_CONFIGS[name],
        "--bind",
        bind or address(name),
        WSGI_APPS[name],
    ]


def free_address() -> str:
    """An address on 127.0.0.1 that nothing listens on now (the kernel's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def _manage(name: str, *args: str, capture: bool = False) -> str:
    """`manage.py <args>` of process name's project, with that process's environment; its output
    when captured (else it goes to the terminal)."""
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(
        command,
        cwd=PROJECT_DIRS[name],
        env=environment(name),
        text=True,
        stdout=subprocess.PIPE if capture else None,
        preexec_fn=tied_to_parent(),
    )
    if result.returncode != 0:
        where = "" if name == "monolith" else f" (in {PROJECT_DIRS[name].relative_to(REPO)})"
        raise ShopError(f"`{shlex.join(command[1:])}`{where} failed; its output is above.")
    return result.stdout or ""


def _call_when_ready(ready_url: str, callback: Callable[[], None]) -> None:
    # The thread is a daemon: when the processes never get ready, it ends with `shop up`.
    while not answers(ready_url):
        time.sleep(0.5)
    # A stdout that has gone away is no error here (the supervisor stops printing too).
    with contextlib.suppress(OSError):
        callback()
