"""CPU time and memory of a running shop's processes, by kind, read from /proc.

The comparison kit samples before and after a round of load and divides the CPU spent by the
requests served: what a request costs the machine, in each process. The kinds are the shop's
processes (found under the `shop up` process by their command lines) and the PostgreSQL backends
serving the shop's databases (found by their process titles, `postgres: user database ...`).

Memory is the proportional set size (Pss, /proc/<pid>/smaps_rollup): a page shared by N
processes counts 1/N in each, so the sum over a kind's processes (gunicorn's master and workers,
PostgreSQL's backends and their shared buffers) is what the kind really holds, where summing RSS
would count shared pages again in every process.
"""

import contextlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
# A process belongs to the first kind whose marker is in its command line.
KINDS = {
    "monolith.wsgi": "monolith",
    "catalog_service.wsgi": "catalog",
    "payments_service.wsgi": "payments",
    "payments_relay": "relay",
    "nginx": "facade",
}


@dataclass(frozen=True)
class Usage:
    """CPU seconds so far (user + system) and memory now (Pss, MiB) of one kind of process."""

    cpu_s: float
    pss_mib: float


def parent(pid: int) -> int | None:
    try:
        # The command name, in parentheses, may hold spaces: the fields after it are plain.
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    """Every process under root (children, their children, ...)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            above = parent(int(entry.name))
            if above is not None:
                children.setdefault(above, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kind_of(command: str) -> str | None:
    return next((kind for marker, kind in KINDS.items() if marker in command), None)


def postgres_backends(databases: Iterable[str]) -> list[int]:
    """The PostgreSQL backends connected to any of the databases (their titles name the database)."""
    names = set(databases)
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            words = command_line(int(entry.name)).split()
            # "postgres: [<cluster name>:] <user> <database> <client> <state>" (Debian names its clusters "15/main")
            if len(words) > 1 and words[1].endswith(":"):
                del words[1]
            if len(words) >= 3 and words[0] == "postgres:" and words[2] in names:
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _pss_mib(pid: int) -> float:
    for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024  # kB
    return 0.0


def sample(root: int, databases: Iterable[str] | Mapping[str, str] = ()) -> dict[str, Usage]:
    """The usage of each kind of process under root, and of the backends of the databases: one kind
    "postgres" for names, or a kind each for a mapping {kind: database name}.

    When root runs a PostgreSQL of its own (`shop up`'s private cluster), only that cluster's
    backends count: other shops' clusters have databases of the same names."""
    tree = descendants(root)
    pids: dict[str, list[int]] = {}
    for pid in tree:
        kind = kind_of(command_line(pid))
        if kind:
            pids.setdefault(kind, []).append(pid)
    own = set(tree) if any(_is_postmaster(pid) for pid in tree) else None
    kinds = dict(databases) if isinstance(databases, Mapping) else {"postgres": None}
    for kind, database in kinds.items():
        names = list(databases) if database is None else [database]
        backends = [pid for pid in postgres_backends(names) if own is None or pid in own]
        if names and backends:
            pids[kind] = backends
    cpu, memory = Counter(), Counter()
    for kind, members in pids.items():
        for pid in members:
            with contextlib.suppress(OSError):  # gone meanwhile: a worker restarted, a backend closed
                cpu[kind] += _cpu_seconds(pid)
                memory[kind] += _pss_mib(pid)
    return {kind: Usage(cpu[kind], memory[kind]) for kind in pids}


def _is_postmaster(pid: int) -> bool:
    """Whether pid is a PostgreSQL server (`.../bin/postgres -D <data> ...`), not one of its backends."""
    words = command_line(pid).split()
    return bool(words) and words[0].endswith("/postgres") and "-D" in words


def spent(before: dict[str, Usage], after: dict[str, Usage]) -> dict[str, float]:
    """CPU seconds each kind spent between two samples (never negative: a process that exited
    meanwhile takes its CPU time with it, so a kind may seem to have spent less)."""
    return {kind: max(0.0, usage.cpu_s - before.get(kind, Usage(0, 0)).cpu_s) for kind, usage in after.items()}
