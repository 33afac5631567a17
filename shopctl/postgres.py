"""The quick start's PostgreSQL: a private cluster in the run folder, run by `shop up` itself.

The live switch (`shop stage N`) needs PostgreSQL: it holds the catalog's writers back with an
advisory lock during the final copy, which SQLite has no equivalent of (its one write lock would
hold every writer back, and a busy shop's requests would time out on it). So when a `*_DATABASE_URL`
is not set, `shop up` runs Debian's PostgreSQL (`make up` installs the package) as a cluster of its
own: made with initdb the first time in <run folder>/postgres, listening on a unix socket in that
folder only (no TCP port, so it clashes with nothing), trust authentication (only who can reach
the folder can connect), one database per deployable. Explicit URLs always win.

PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` system user;
when that user cannot reach the run folder (a checkout under /root, say), the cluster lives in its
home instead, in a folder named after the run folder (data_dir()).
"""

import hashlib
import os
import pwd
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

from shopctl import ShopError
from shopctl.supervisor import tied_to_parent

# Each deployable's database in the cluster, by the variable that would otherwise name it.
DATABASES = {
    "DATABASE_URL": "shop_monolith",
    "CATALOG_DATABASE_URL": "shop_catalog",
    "PAYMENTS_DATABASE_URL": "shop_payments",
}
SUPERUSER = "postgres"
READY_WITHIN = 30  # seconds; a new cluster recovers or starts in one or two
# A unix socket's path is limited to 107 bytes; the socket is <data dir>/.s.PGSQL.5432.
MAX_DATA_DIR = 107 - len("/.s.PGSQL.5432")
# The folder in the postgres user's home that holds the clusters of run folders it cannot reach.
FALLBACK = "strangler-shop"


@dataclass(frozen=True)
class Cluster:
    data: Path
    bin: Path
    user: pwd.struct_passwd | None  # who runs it, when not the caller (root)

    def url(self, database: str) -> str:
        """A DATABASE_URL for `database` on this cluster's socket: the socket's folder as the `host`
        parameter, which libpq and django-environ (as an OPTION Django passes on) both read."""
        return f"postgres://{SUPERUSER}@/{database}?host={quote(str(self.data))}"

    def command(self) -> list[str]:
        return [
            str(self.bin / "postgres"),
            "-D",
            str(self.data),
            "-c",
            "listen_addresses=",
            "-c",
            f"unix_socket_directories={self.data}",
        ]


def missing(env: Mapping[str, str] = os.environ) -> list[str]:
    """The database variables not set: those the cluster provides."""
    return [name for name in DATABASES if not env.get(name)]


def cluster(run_dir: Path) -> Cluster:
    """The cluster of this run folder (not necessarily made yet)."""
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    return Cluster(data_dir(run_dir, user), _bin(), user)


def data_dir(run_dir: Path, user: pwd.struct_passwd | None = None) -> Path:
    """<run>/postgres, or, for the postgres user under root when it cannot reach the run folder,
    a folder in its home named after the run folder."""
    inside = run_dir.resolve() / "postgres"
    if user is None or _reachable(run_dir, user):
        if len(str(inside)) > MAX_DATA_DIR:
            raise ShopError(
                "The run folder's path is too long for PostgreSQL's socket: set SHOP_RUN_DIR to a shorter one."
            )
        return inside
    return Path(user.pw_dir) / FALLBACK / _digest(run_dir)


def initialise(cluster: Cluster) -> None:
    """initdb, the first time: trust authentication, UTF-8, no locale of the machine's."""
    if (cluster.data / "PG_VERSION").exists():
        return
    cluster.data.mkdir(parents=True, exist_ok=True)
    if cluster.user is not None:
        # Made by root; postgres must own its data folder (and, in its home, the folder above).
        owned = [cluster.data.parent, cluster.data] if cluster.data.parent.name == FALLBACK else [cluster.data]
        for folder in owned:
            os.chown(folder, cluster.user.pw_uid, cluster.user.pw_gid)
    cluster.data.chmod(0o700)
    result = subprocess.run(
        [
            str(cluster.bin / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-instructions",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        preexec_fn=tied_to_parent(user=cluster.user),
    )
    if result.returncode != 0:
        raise ShopError(f"initdb failed for {cluster.data}:\n{result.stdout}{result.stderr}")


def wait_until_ready(cluster: Cluster, process: subprocess.Popen | None, on_wait=lambda: None) -> None:
    """Return once the cluster accepts connections; ShopError if its process exits or it takes too long."""
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            psycopg2.connect(cluster.url("postgres"), connect_timeout=2).close()
            return
        except psycopg2.OperationalError:
            pass
        if process is not None and process.poll() is not None:
            on_wait()
            raise ShopError(
                f"PostgreSQL ({cluster.data}) exited with code {process.returncode} at start; its output is above."
            )
        if time.monotonic() > deadline:
            raise ShopError(f"PostgreSQL ({cluster.data}) did not accept connections within {READY_WITHIN} s.")
        on_wait()
        time.sleep(0.1)


def create_databases(cluster: Cluster, names: list[str]) -> None:
    """CREATE DATABASE each of names that does not exist yet."""
    connection = psycopg2.connect(cluster.url("postgres"))
    connection.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
    try:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone() is None:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def remove(run_dir: Path) -> list[Path]:
    """Delete the run folder's cluster, wherever it is (it must not be running); the folders deleted."""
    candidates = [run_dir.resolve() / "postgres"]
    if os.geteuid() == 0:
        candidates.append(Path(pwd.getpwnam("postgres").pw_dir) / FALLBACK / _digest(run_dir))
    removed = [data for data in candidates if data.exists()]
    for data in removed:
        shutil.rmtree(data)
    return removed


def _bin() -> Path:
    """The newest PostgreSQL installed the Debian way (/usr/lib/postgresql/<version>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda path: float(path.parent.parent.name))
    if not found:
        raise ShopError(
            "PostgreSQL is not installed: `make up` installs it (or `apt-get install postgresql`); "
            "or set DATABASE_URL, CATALOG_DATABASE_URL and PAYMENTS_DATABASE_URL to databases of your own."
        )
    return found[-1].parent


def _digest(run_dir: Path) -> str:
    return hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]


def _reachable(run_dir: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` can reach into run_dir (every folder above it searchable)."""
    result = subprocess.run(["test", "-x", str(run_dir.resolve())], preexec_fn=tied_to_parent(user=user))
    return result.returncode == 0
