"""The facade's nginx: its config rendered from proxy/nginx.conf with the stage's routes, checked, and its command line."""

import grp
import os
import pwd
import re
import shutil
import socket
import string
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from monolith.strangler import stages
from shopctl import ShopError

PROXY = Path(__file__).resolve().parent.parent / "proxy"
TEMPLATE = PROXY / "nginx.conf"
# The routes of each stage, literal nginx files (proxy/routes/stage-<N>.conf): nginx.conf includes
# routes/stage-${SHOP_STAGE}.conf, relative to the rendered config, where render() links this folder.
ROUTES = PROXY / "routes"

# `location <prefix> { proxy_pass http://<upstream>; }`, the only shape a route file holds.
_ROUTE = re.compile(r"location\s+(\S+)\s*\{\s*proxy_pass\s+http://([\w-]+)\s*;\s*\}")

# The facade's rate limits per client address, each overridden by the variable of its name in
# the environment (docs/running.md, "Rate limits"). Set for people: a class of 30 behind one
# address logging in, paying and trying the API at once, with typos and retries, fits in the
# bursts. An attacker gets 20 passwords a minute, a card tester a card a second.
LIMIT_DEFAULTS = {
    "FACADE_LOGIN_PER_MINUTE": "20",  # POST to a login form
    "FACADE_LOGIN_BURST": "40",
    "FACADE_CHECKOUT_PER_MINUTE": "60",  # POST /checkout/, a pay form, POST /api/orders/<n>/pay/, POST /api/payments/
    "FACADE_CHECKOUT_BURST": "60",
    "FACADE_API_PER_SECOND": "20",  # anything under /api/
    # A class of 30 at once: the API docs (two requests), the catalog, its orders, an order and its
    # payment, six under /api/ each; answered at once by the microcache, they arrive together.
    "FACADE_API_BURST": "240",
}
# Limits no test or benchmark reaches: they load the shop from one address on purpose, as fast as
# it answers (`env={**nginx.UNLIMITED, ...}`).
UNLIMITED = {name: "1000000" for name in LIMIT_DEFAULTS}
# The microcache of anonymous catalog API reads (proxy/nginx.conf; docs/running.md, "The
# microcache"): on or off.
MICROCACHE_DEFAULT = {"FACADE_MICROCACHE": "on"}
MICROCACHE_VALUES = ("on", "off")
# Every FACADE_* setting of the facade's config, with its default: what `shop up` records and
# docker-compose.yml and the Kubernetes facade repeat.
SETTING_DEFAULTS = {**LIMIT_DEFAULTS, **MICROCACHE_DEFAULT}


class _Placeholders(string.Template):
    # Only ${UPPER_CASE} names are placeholders: nginx's own variables ($request_id) are lower
    # case and must come through as they are. A placeholder left unfilled fails `nginx -t`.
    flags = 0
    idpattern = r"[A-Z][A-Z0-9_]*"


def route_file(stage: int) -> Path:
    return ROUTES / f"stage-{stage}.conf"


def routes_in(path: Path) -> dict[str, str]:
    """{prefix: upstream} of the location blocks in a route file, comments left out."""
    code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    return dict(_ROUTE.findall(code))


def render(
    prefix: Path,
    stage: int,
    addresses: Mapping[str, str],
    settings: Mapping[str, str] | None = None,
) -> Path:
    """Write prefix/nginx.conf: the facade at addresses["facade"], routing as proxy/routes/stage-<stage>.conf says,
    with the FACADE_* settings (rate limits, microcache) of `settings` (by default, the environment),
    each defaulting to SETTING_DEFAULTS'.

    ShopError if that file disagrees with the stage table (monolith/strangler/stages.py): the
    facade never starts with routes the monolith does not expect.
    """
    found, expected = routes_in(route_file(stage)), stages.routes(stage)
    if found != expected:
        raise ShopError(
            f"{route_file(stage)} routes {found or 'nothing'}, but at stage {stage} the stage table "
            f"(monolith/strangler/stages.py) sends {expected or 'nothing'} to a service."
        )
    text = _Placeholders(TEMPLATE.read_text()).safe_substitute(
        **rate_limits(os.environ if settings is None else settings),
        **microcache(os.environ if settings is None else settings),
        FACADE_ADDR=addresses["facade"],
        MONOLITH_ADDR=addresses["monolith"],
        CATALOG_ADDR=addresses["catalog"],
        PAYMENTS_ADDR=addresses["payments"],
        SHOP_STAGE=str(stage),
        FACADE_STATUS_LISTEN=f"unix:{status_socket(prefix)}",
    )
    prefix.mkdir(parents=True, exist_ok=True)
    link = prefix / "routes"
    if not (link.is_symlink() and link.resolve() == ROUTES):
        if link.is_symlink():
            link.unlink()
        link.symlink_to(ROUTES, target_is_directory=True)
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


def rate_limits(env: Mapping[str, str]) -> dict[str, str]:
    """LIMIT_DEFAULTS, each overridden by env; ShopError naming a value that is not a whole number above 0."""
    limits = {name: env.get(name, default).strip() for name, default in LIMIT_DEFAULTS.items()}
    for name, value in limits.items():
        if not (value.isascii() and value.isdigit() and int(value) > 0):
            raise ShopError(
                f"{name}={value!r} is not a limit: give a whole number above 0 (the default is {LIMIT_DEFAULTS[name]})."
            )
    return limits


def microcache(env: Mapping[str, str]) -> dict[str, str]:
    """MICROCACHE_DEFAULT, overridden by env; ShopError naming a value other than on or off."""
    # Exactly on or off, as docker-compose.yml and the Kubernetes facade pass it to the template
    # unchecked (any other value there turns the cache off).
    value = env.get("FACADE_MICROCACHE", MICROCACHE_DEFAULT["FACADE_MICROCACHE"])
    if value not in MICROCACHE_VALUES:
        raise ShopError(
            f"FACADE_MICROCACHE={value!r} is not a switch: give on or off "
            f"(the default is {MICROCACHE_DEFAULT['FACADE_MICROCACHE']})."
        )
    return {"FACADE_MICROCACHE": value}


def status_socket(prefix: Path) -> Path:
    """Where the facade answers its stub_status (GET /status): a unix socket beside its config, so
    that only this machine's users reach it. The monolith's staff page reads it (FACADE_STATUS_URL)."""
    return prefix.resolve() / "status.sock"


def clear_status_socket(prefix: Path) -> None:
    """Remove the status socket a killed facade left behind (nginx removes it when it stops
    normally, and will not bind over it); ShopError if a facade still answers there."""
    path = status_socket(prefix)
    if not path.is_socket():
        return
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink(missing_ok=True)
            return
    raise ShopError(f"A facade still answers at {path}: stop that shop first, or give this one another SHOP_RUN_DIR.")


def command(prefix: Path) -> list[str]:
    """nginx in the foreground with its config, pid and temp files under prefix."""
    directives = "daemon off;"
    if os.geteuid() == 0:
        # A root master hands requests to workers running as `nobody`, who may not reach temp
        # folders inside a home directory; the owner of the prefix can.
        owner = prefix.stat()
        user, group = pwd.getpwuid(owner.st_uid).pw_name, grp.getgrgid(owner.st_gid).gr_name
        directives += f" user {user} {group};"
    # -e stderr: the compiled-in error log (often /var/log/nginx/error.log) is opened before the
    # config is read, and only root may write there.
    return [_binary(), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", "stderr", "-g", directives]


def check(prefix: Path) -> None:
    """Run `nginx -t` on the rendered config; ShopError with nginx's complaint if it fails."""
    result = subprocess.run([*command(prefix), "-t"], capture_output=True, text=True)
    if result.returncode != 0:
        raise ShopError(f"nginx rejects {prefix / 'nginx.conf'}:\n{result.stderr}")


def reload(prefix: Path, drain_within: float = 30) -> None:
    """Reload the running facade gracefully, and return once every worker of the old config is gone.

    nginx's master starts workers with the new config and lets the old ones finish the requests
    they have (none is dropped). Once they have exited, no request can take an old route.
    """
    master = _master_pid(prefix)
    old_workers = _children(master)
    result = subprocess.run([*command(prefix), "-s", "reload"], capture_output=True, text=True)
    if result.returncode != 0:
        raise ShopError(f"nginx did not reload {prefix / 'nginx.conf'}:\n{result.stderr}")
    deadline = time.monotonic() + drain_within
    while any(Path(f"/proc/{pid}").exists() for pid in old_workers):
        if time.monotonic() > deadline:
            raise ShopError(f"nginx's old workers still serve after {drain_within:.0f} s (pids {sorted(old_workers)}).")
        time.sleep(0.05)


def _master_pid(prefix: Path) -> int:
    try:
        pid = int((prefix / "nginx.pid").read_text())
    except (OSError, ValueError):
        raise ShopError(
            f"The facade is not running: no pid in {prefix / 'nginx.pid'}. Start the shop with `shop up`."
        ) from None
    if not Path(f"/proc/{pid}").exists():
        raise ShopError(
            f"The facade is not running (pid {pid} from {prefix / 'nginx.pid'} is gone). Start the shop with `shop up`."
        )
    return pid


def _children(pid: int) -> set[int]:
    """The processes whose parent is pid (nginx's workers, cache processes)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: the fields after it are plain.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _binary() -> str:
    # Debian installs nginx in /usr/sbin, which is not on a normal user's PATH.
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ShopError("nginx is not installed: `make up` installs it, or run `apt-get install nginx`.")
    return found
