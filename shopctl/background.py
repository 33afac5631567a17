"""`shop up` in the background, for the end-to-end tests and the benchmarks.

It runs the real command, so these start the shop exactly as a developer does:

    with BackgroundShop(log_path=Path("shop.log")) as shop:
        shop.wait_until_ready()
        requests.get(shop.url + "api/catalog/products/")
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from shopctl import ShopError, stack

# The supervisor prefixes every line a process prints with "HH:MM:SS name | ", as honcho does.
_HONCHO_LINE = re.compile(r"^\S+ (?P<name>\S+)\s*\| (?P<line>.*)$")


class BackgroundShop:
    """`shop up [--stage N] [PROCESS ...]` with its output in log_path; a context manager that stops it.

    switch(N) runs `shop stage N` against it, with the same environment (or another).
    """

    def __init__(
        self,
        only: Sequence[str] = (),
        *,
        stage: int | None = None,
        env: Mapping[str, str] | None = None,
        without: Iterable[str] = (),
        log_path: Path,
    ) -> None:
        """env adds to (or overrides) the caller's environment; `without` names variables of the
        caller's it does not pass on (the databases, for a shop that runs its own PostgreSQL)."""
        self.names = list(only) or stack.processes()
        stage_option = [] if stage is None else ["--stage", str(stage)]
        self.argv = [sys.executable, "-m", "shopctl", "up", *stage_option, *only]
        self.env = {name: value for name, value in {**os.environ, **(env or {})}.items() if name not in set(without)}
        self.url = stack.url(self.names, self.env)
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self) -> "BackgroundShop":
        # Checked here as well as in `shop up`: a shop already answering on the port would look
        # ready before the new `shop up` had time to fail.
        stack.check_ports_free(stack.servers(self.names), self.env)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                cwd=stack.REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group, so that stop() reaches `manage.py migrate` too, and
                # Ctrl-C in the caller's terminal leaves the stopping to stop().
                start_new_session=True,
            )
        return self

    def wait_until_ready(self, timeout: float = 120) -> None:
        """Return once url/readyz answers 200; ShopError with the output if it does not in time."""
        deadline = time.monotonic() + timeout
        while not stack.answers(self.url + "readyz"):
            if (code := self._process.poll()) is not None:
                raise ShopError(f"`shop up` exited with code {code} before it was ready.\n{self._recent_output()}")
            if time.monotonic() > deadline:
                raise ShopError(f"{self.url}readyz did not answer 200 within {timeout:.0f} s.\n{self._recent_output()}")
            time.sleep(0.25)

    def stop(self) -> None:
        """Stop every process, as Ctrl-C does; wait until they have gone."""
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            # The supervisor gives its processes 5 s before it kills them, then stops the database.
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def switch(
        self,
        stage: int,
        timeout: float = 300,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """`shop stage <stage>` for this shop, with its environment (or env: the command finds the rest
        in the run folder); its output (stdout and stderr together) and exit code."""
        return self.command("stage", str(stage), timeout=timeout, env=env)

    def command(
        self,
        *args: str,
        timeout: float = 300,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """`shop <args>` for this shop, as switch() runs `shop stage`."""
        return subprocess.run(
            [sys.executable, "-m", "shopctl", *args],
            cwd=stack.REPO,
            env=self.env if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _recent_output(self, count: int = 80) -> str:
        lines = self.output().splitlines()[-count:]
        return f"The last {len(lines)} lines of {self.log_path}:\n" + "\n".join(lines)

    def lines_of(self, name: str) -> list[str]:
        """What process `name` has printed so far, without the supervisor's prefix."""
        matches = (_HONCHO_LINE.match(line) for line in self.output().splitlines())
        return [m["line"] for m in matches if m and m["name"] == name]

    def __enter__(self) -> "BackgroundShop":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
