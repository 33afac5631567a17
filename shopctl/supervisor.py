"""The supervisor inside `shop up`: starts the shop's processes, prints their output, and stops them
all, however `shop up` itself is stopped.

honcho ran them before, and stopping was fragile: it starts each process from a forked helper that
ignores SIGINT and SIGTERM, in a session of its own, so when `shop up` died (SIGKILL, a closed
terminal, `| tee` gone after Ctrl-C) the processes kept serving with no parent, and honcho offers no
hook to tie them to it. Here each process:

- dies with its supervisor: the kernel sends it its stop signal when `shop up` dies, however it dies
  (prctl PR_SET_PDEATHSIG, set in the child before it executes its program);
- runs in a process group of its own, so that the terminal's Ctrl-C or SIGHUP reaches `shop up`
  only, which stops the processes in order, and so that a kill reaches their workers too.

The output keeps honcho's format ("HH:MM:SS name | line", honcho's own Printer), and a stdout that
goes away (a closed terminal, a pipe whose reader has gone) stops the printing, not the stopping.
"""

import contextlib
import ctypes
import datetime
import os
import pwd
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from honcho.printer import Message, Printer

# From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)

# Between the stop signal and SIGKILL: gunicorn's graceful_timeout (4 s) fits in the first, and
# PostgreSQL's fast shutdown (a checkpoint) in the second, so that a stop takes 10 s at most.
KILL_AFTER = 5  # seconds, for the processes
KILL_LAST_AFTER = 3  # seconds, for those stopped last (the database)
SIGNAL_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP"}
SYSTEM = "system"  # the name on the supervisor's own lines, as honcho's


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP arrived before the processes ran (during `migrate`, say).

    A BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(SIGNAL_NAMES.get(signum, str(signum)))
        self.signum = signum


def tied_to_parent(stop_signal: int = signal.SIGTERM, user: pwd.struct_passwd | None = None) -> Callable[[], None]:
    """A preexec_fn for subprocess: the child gets stop_signal when its parent dies (and, given a
    user, runs as that user: the parent-death setting is cleared by a change of user, so it comes after)."""
    parent = os.getpid()

    def preexec() -> None:
        if user is not None:
            os.setgid(user.pw_gid)
            os.setgroups([user.pw_gid])
            os.setuid(user.pw_uid)
        if _libc.prctl(PR_SET_PDEATHSIG, int(stop_signal), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the prctl: nobody would tell us
            os.kill(os.getpid(), stop_signal)

    return preexec


@dataclass
class _Child:
    process: subprocess.Popen
    stop_signal: int
    last: bool  # stopped once the others have gone (the database they write to)
    returncode: int | None = None
    signalled: bool = False


class Supervisor:
    """Processes started one by one (start()), then supervised until one stops or a signal comes (run()).

    As a context manager it stops whatever is still running when it exits, whatever the reason.
    """

    def __init__(self, output: TextIO | None = None) -> None:
        self._printer = Printer(output or sys.stdout, width=len(SYSTEM))
        self._children: dict[str, _Child] = {}
        self._lines: queue.Queue = queue.Queue()
        self._signals: list[int] = []
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> "Supervisor":
        for signum in SIGNAL_NAMES:
            self._previous_handlers[signum] = signal.signal(signum, self._interrupt)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.stop()
        finally:
            for signum, handler in self._previous_handlers.items():
                signal.signal(signum, handler)

    def pids(self) -> dict[str, int]:
        return {name: child.process.pid for name, child in self._children.items()}

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        stop_signal: int = signal.SIGTERM,
        user: pwd.struct_passwd | None = None,
        last: bool = False,
    ) -> subprocess.Popen:
        """Start argv as process `name`; stop_signal stops it gracefully (also when `shop up` dies)."""
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=tied_to_parent(stop_signal, user),
        )
        self._children[name] = _Child(process, stop_signal, last)
        self._printer.width = max(self._printer.width, len(name))
        self.say(f"{name} started (pid={process.pid})")
        threading.Thread(target=self._read, args=(name, process), daemon=True).start()
        return process

    def say(self, text: str, name: str = SYSTEM) -> None:
        """Print a line in the processes' format; a stdout that has gone away is dropped, quietly."""
        try:
            self._printer.write(Message("line", text, datetime.datetime.now(), name, None))
        except OSError:  # EPIPE (the reader of a pipe has gone), EIO (the terminal has closed)
            self._printer.output = open(os.devnull, "w")  # noqa: SIM115 (open while the supervisor prints)
            # Also the interpreter's own flush at exit must not complain.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(self._printer.output.fileno(), sys.stdout.fileno())

    def flush_output(self) -> None:
        """Print what the processes have written so far (while the caller waits for something)."""
        self._drain(timeout=0)

    def run(self) -> int:
        """Print the processes' output until one of them stops or a signal comes, then stop them
        all; the exit code: the first stopped process's, 0 after SIGTERM (a stop asked for, as
        `shop down` does), or 128 + the signal's number (130 after Ctrl-C, as shells expect)."""
        for signum in SIGNAL_NAMES:
            signal.signal(signum, self._note)
        while self._signals == [] and not self._any_stopped():
            self._drain(timeout=0.1)
        if self._signals:
            returncode = 0 if self._signals[0] == signal.SIGTERM else 128 + self._signals[0]
        else:
            returncode = next(child.returncode for child in self._children.values() if child.returncode is not None)
        self.stop()
        return returncode

    def stop(self) -> None:
        """Stop every process: the others first, then those marked last; SIGKILL what is left after
        KILL_AFTER (KILL_LAST_AFTER) seconds, or at once when a signal comes meanwhile."""
        if self._previous_handlers:  # a signal now hurries the stop, it does not interrupt it
            for signum in SIGNAL_NAMES:
                signal.signal(signum, self._note)
        self._stop_group([child for child in self._children.values() if not child.last], KILL_AFTER)
        self._stop_group([child for child in self._children.values() if child.last], KILL_LAST_AFTER)

    def _stop_group(self, children: list["_Child"], kill_after: float) -> None:
        signals_before = len(self._signals)
        for name, child in self._children.items():
            if child in children and child.returncode is None and child.process.poll() is None and not child.signalled:
                self.say(f"sending {signal.Signals(child.stop_signal).name} to {name} (pid {child.process.pid})")
                self._signal_group(child, child.stop_signal)
                child.signalled = True
        deadline = time.monotonic() + kill_after
        while any(child.process.poll() is None for child in children):
            if time.monotonic() > deadline or len(self._signals) > signals_before:
                for name, child in self._children.items():
                    if child in children and child.process.poll() is None:
                        self.say(f"sending SIGKILL to {name} (pid {child.process.pid})")
                        self._signal_group(child, signal.SIGKILL)
                for child in children:
                    child.process.wait()
                break
            self._drain(timeout=0.05)
        self._drain(timeout=0)

    def _signal_group(self, child: _Child, signum: int) -> None:
        # The process group: gunicorn's and nginx's workers are in it too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signum)

    def _any_stopped(self) -> bool:
        return any(child.returncode is not None for child in self._children.values())

    def _drain(self, timeout: float) -> None:
        try:
            while True:
                name, line = self._lines.get(timeout=timeout)
                timeout = 0
                if line is None:
                    child = self._children[name]
                    child.returncode = child.process.wait()
                    self.say(f"{name} stopped (rc={child.returncode})")
                else:
                    self.say(line.decode("utf-8", "replace").rstrip("\n"), name)
        except queue.Empty:
            pass

    def _read(self, name: str, process: subprocess.Popen) -> None:
        for line in iter(process.stdout.readline, b""):
            self._lines.put((name, line))
        process.stdout.close()
        process.wait()
        self._lines.put((name, None))

    def _interrupt(self, signum: int, frame) -> None:
        # Before run(): leave whatever is under way (a migrate, a wait) at once.
        self._note(signum, frame)
        raise Interrupted(signum)

    def _note(self, signum: int, frame) -> None:
        self._signals.append(signum)
        self.say(f"{SIGNAL_NAMES[signum]} received" + (", stopping at once" if len(self._signals) > 1 else ""))
