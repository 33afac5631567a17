"""The facade's nginx: its config rendered from proxy/nginx.conf, checked, and its command line."""
import grp
import os
import pwd
import shutil
import socket
import string
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from shopctl import ShopError

TEMPLATE = Path(__file__).resolve().parent.parent / "proxy" / "nginx.conf"

UPSTREAM = """\
    upstream {name} {{
        server {address};
        keepalive 16;
    }}
"""
ROUTE = """\
        location {prefix} {{
            proxy_pass http://{name};
        }}
"""


class _Placeholders(string.Template):
    # Only ${UPPER_CASE} names are placeholders: nginx's own variables ($request_id) are lower
    # case and must come through as they are. A placeholder left unfilled fails `nginx -t`.
    flags = 0
    idpattern = r"[A-Z][A-Z0-9_]*"


def render(prefix: Path, routes: Mapping[str, str], addresses: Mapping[str, str]) -> Path:
    """Write prefix/nginx.conf: the facade at addresses["facade"], each route prefix sent to its service."""
    services = sorted(set(routes.values()))
    text = _Placeholders(TEMPLATE.read_text()).safe_substitute(
        FACADE_ADDR=addresses["facade"],
        MONOLITH_ADDR=addresses["monolith"],
        FACADE_STATUS_LISTEN=f"unix:{status_socket(prefix)}",
        STAGE_UPSTREAMS="".join(UPSTREAM.format(name=s, address=addresses[s]) for s in services),
        STAGE_ROUTES="".join(ROUTE.format(prefix=p, name=s) for p, s in routes.items()),
    )
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(text)
    return conf


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
        raise ShopError(f"The facade is not running: no pid in {prefix / 'nginx.pid'}. Start the shop with `shop up`.") from None
    if not Path(f"/proc/{pid}").exists():
        raise ShopError(f"The facade is not running (pid {pid} from {prefix / 'nginx.pid'} is gone). Start the shop with `shop up`.")
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
