"""CPU and memory by kind of process, from /proc (shopctl/procstat.py), on real processes."""

import subprocess
import sys
import time

import pytest

from shopctl import procstat

# A child that burns CPU for a while under a command line that names the monolith's WSGI module.
BURN = "import time, sys; end = time.process_time() + float(sys.argv[1]); [0 for _ in iter(lambda: time.process_time() < end, False)]; time.sleep(30)"


@pytest.fixture
def shop_like_tree():
    """A parent (standing in for `shop up`) with a 'monolith' child that burns 0.3 s of CPU, and an 'nginx' one that idles."""
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    children = [
        subprocess.Popen([sys.executable, "-c", BURN, "0.3", "monolith.wsgi:application"]),
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "nginx: worker process"]),
    ]
    yield parent, children
    for process in [parent, *children]:
        process.kill()
        process.wait()


def test_processes_are_grouped_by_kind_and_their_cpu_and_memory_read(shop_like_tree, monkeypatch):
    parent, children = shop_like_tree
    # The children are ours, not the parent's: tell procstat they hang under it.
    real_parent = procstat.parent
    monkeypatch.setattr(
        procstat, "parent", lambda pid: parent.pid if pid in {c.pid for c in children} else real_parent(pid)
    )
    before = procstat.sample(parent.pid)
    deadline = time.monotonic() + 20  # the monolith child burns its 0.3 s meanwhile, however busy the machine
    while True:
        after = procstat.sample(parent.pid)
        if procstat.spent(before, after).get("monolith", 0) >= 0.25 or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert set(after) == {"monolith", "facade"}
    spent = procstat.spent(before, after)
    assert 0.2 <= spent["monolith"] <= 0.5, spent
    assert spent["facade"] < 0.05
    assert after["monolith"].pss_mib > 1 and after["facade"].pss_mib > 1


def test_postgresql_backends_are_found_by_their_database(db):
    from django.db import connection

    name = connection.settings_dict["NAME"]
    connection.ensure_connection()

    backends = procstat.postgres_backends([name])

    assert backends, f"no backend found for {name}"
    assert all(f" {name} " in procstat.command_line(pid) for pid in backends)
    assert procstat.sample(0, [name])["postgres"].pss_mib > 0
    assert not procstat.postgres_backends(["no_such_database_here"])


def test_kinds_come_from_the_command_lines():
    assert (
        procstat.kind_of("python -m gunicorn --config python:shopctl.gunicorn_config monolith.wsgi:application")
        == "monolith"
    )
    assert procstat.kind_of("gunicorn catalog_service.wsgi:application") == "catalog"
    assert procstat.kind_of("python manage.py payments_relay") == "relay"
    assert procstat.kind_of("nginx: master process /usr/sbin/nginx -p .run/nginx/") == "facade"
    assert procstat.kind_of("bash") is None
