"""Real gunicorn processes of the shop's Django projects for integration tests, each on its own fresh database.

    with serve(MONOLITH, port=free_port(), name="catalog_peer", log_dir=tmp) as server:
        requests.get(f"{server.url}/api/catalog/products/")

A Server runs one project (the monolith, or the catalog or payments service from extracted/) under
gunicorn at 127.0.0.1:<port>, on a PostgreSQL database created for it, migrated, and dropped
afterwards. The database is named after the tests' own DATABASE_URL plus a suffix, so two test
runs on different databases never share one; a service never sees the monolith's.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import requests
from psycopg2 import sql

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
READY_WITHIN = 30  # seconds: gunicorn's workers import Django and connect to the database


@dataclass(frozen=True)
class Project:
    """A deployable Django project: where its manage.py is, and what gunicorn runs."""

    name: str
    directory: Path
    settings: str
    gunicorn_config: str
    wsgi: str


MONOLITH = Project(
    "monolith", REPO, "monolith.settings.test", "python:shopctl.gunicorn_config", "monolith.wsgi:application"
)
CATALOG = Project(
    "catalog service",
    REPO / "extracted" / "catalog",
    "catalog_service.settings.test",
    "python:catalog_service.gunicorn_config",
    "catalog_service.wsgi:application",
)
PAYMENTS = Project(
    "payments service",
    REPO / "extracted" / "payments",
    "payments_service.settings.test",
    "python:payments_service.gunicorn_config",
    "payments_service.wsgi:application",
)


def database_url(suffix):
    """A database beside the tests' own, named after it: <tests' database>_<suffix>."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_monolith"))
    return server._replace(path=f"{server.path}_{suffix}").geturl()


class Server:
    """One project under gunicorn at 127.0.0.1:`port`, on the database at `database_url`."""

    def __init__(self, project, *, port, database_url, log_path, env=None):
        self.project = project
        self.address = f"{HOST}:{port}"
        self.url = f"http://{self.address}"
        self.database_url = database_url
        self.log_path = log_path
        # The process's environment: ours without CATALOG_* and PAYMENTS_* (a developer's
        # stage-1 or stage-2 settings would make the monolith a client of some other catalog or
        # payments service, and PAYMENTS_FAULT_* would inject faults), then the test's own.
        self.env = {
            **{name: value for name, value in os.environ.items() if not name.startswith(("CATALOG_", "PAYMENTS_"))},
            "DJANGO_SETTINGS_MODULE": project.settings,
            "DATABASE_URL": database_url,
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",  # the access log, where request ids are checked, line by line
            **(env or {}),
        }
        self.process = None
        self.api = requests.Session()  # the API as staff (both projects seed admin/admin in tests)
        self.api.auth = ("admin", "admin")

    def manage(self, *args):
        """Run `manage.py <args>` of the project against its database; its stdout, or the test fails."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.project.directory,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr}"
        return result.stdout

    def create_database(self):
        """A fresh, migrated database (dropped first if a crashed run left it behind)."""
        _admin_sql(self.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", "CREATE DATABASE {}")
        self.manage("migrate", "--verbosity", "0")

    def drop_database(self):
        _admin_sql(self.database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def start(self):
        if listening(self.address):
            pytest.fail(
                f"Something else listens at {self.address}, where the test's {self.project.name} must run.",
                pytrace=False,
            )
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    self.project.gunicorn_config,
                    "--bind",
                    self.address,
                    self.project.wsgi,
                ],
                cwd=self.project.directory,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The {self.project.name} exited at start:\n{self.log()[-3000:]}", pytrace=False)
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or a worker still importing Django on a busy machine
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"The {self.project.name} did not get ready in {READY_WITHIN} s:\n{self.log()[-3000:]}", pytrace=False
        )

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def ensure_running(self):
        if self.process is None:
            self.start()

    def log(self):
        return self.log_path.read_text()

    def log_lines_with(self, text, *, until, timeout=5):
        """The log lines containing `text`, once one of them satisfies `until`.

        gunicorn writes its access line after the response has gone out, so a client can
        read the log before the line of the request it just made is there.
        """
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.log().splitlines() if text in line]
            if any(until(line) for line in lines) or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def product(self, sku):
        """A product as staff see it (inactive ones too)."""
        response = self.api.get(f"{self.url}/api/catalog/products/{sku}/", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def serve(project, *, port, name, log_dir, env=None, setup=None):
    """A running Server of `project` on a fresh database `<tests' database>_<name>`, set up by `setup(server)`.

    Stopped and its database dropped on the way out, however the block ends.
    """
    server = Server(
        project, port=port, database_url=database_url(name), log_path=Path(log_dir) / f"{name}.log", env=env
    )
    server.create_database()
    try:
        if setup is not None:
            setup(server)
        server.start()
        yield server
    finally:
        server.stop()
        server.drop_database()


def free_port():
    """A port nothing listens on now, chosen by the kernel: tests never take a port another run may hold."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def listening(address):
    """Whether something accepts connections at "host:port"."""
    host, port = address.rsplit(":", 1)
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


def _admin_sql(database_url, *statements):
    parts = urlsplit(database_url)
    connection = psycopg2.connect(parts._replace(path="/postgres").geturl())
    connection.autocommit = True  # CREATE and DROP DATABASE refuse to run inside a transaction
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(sql.SQL(statement).format(sql.Identifier(parts.path.lstrip("/"))))
    finally:
        connection.close()
