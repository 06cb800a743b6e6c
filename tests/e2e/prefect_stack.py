"""README "Run it with Prefect", as code: the emulator, a Prefect server, the work pool, the
Secret block, the deployments, a worker and `prefect deployment run ... --watch`, each step
timed. One implementation for `make prefect-trial` (`python -m tests.e2e.prefect_stack`) and
the end-to-end test.

Every process runs in a session of its own and is stopped by PID, in reverse order (a worker
needs SIGTERM then SIGINT, the server stops on SIGTERM, the emulator on SIGINT); `stop` returns
the process groups, so a caller can check that nothing is left.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ghsync.lake import Location

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKENS = tuple(f"ghp_{letter * 36}" for letter in "ab")  # fake: the emulator's only
SECRET_BLOCK = "github-tokens"
POOL = "ghsync"
ORG = "acme"
QUIET = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_WORKER_QUERY_SECONDS": "1",  # the worker polls every second, not every ten
}
SAVE_SECRET = (
    "import os; from prefect.blocks.system import Secret; "
    f'Secret(value=os.environ["GITHUB_TOKENS"]).save("{SECRET_BLOCK}", overwrite=True)'
)
# (signal, seconds to wait for exit after it), in order
STOP_SIGNALS = {
    "worker": ((signal.SIGTERM, 5.0), (signal.SIGINT, 15.0)),
    "server": ((signal.SIGTERM, 15.0),),
    "emulator": ((signal.SIGINT, 15.0),),
    "receiver": ((signal.SIGTERM, 15.0),),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_environment(home: Path) -> dict[str, str]:
    """This process's environment without Prefect settings or GitHub tokens (the deployment
    must find its tokens in the Secret block), plus a PREFECT_HOME of its own."""
    keep = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "GITHUB_", "GHSYNC_"))
    }
    return {**keep, **QUIET, "PREFECT_HOME": str(home), "PYTHONUNBUFFERED": "1"}


@dataclass
class Stack:
    """The processes and timings of one trial; `home` holds Prefect's state and the logs."""

    home: Path
    db: Location
    """The warehouse: a DuckDB file, or a DuckLake every worker shares."""
    env: dict[str, str] = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    api_url: str = ""
    ui_url: str = ""
    emulator_url: str = ""

    def __post_init__(self) -> None:
        self.env = base_environment(self.home / "prefect")

    def worker_env(self) -> dict[str, str]:
        """What the worker passes to its flow runs: GitHub URLs and database, no tokens. An
        operator's `ghsync status` / `ghsync tokens` use the same."""
        return {
            **self.env,
            "GITHUB_GRAPHQL_URL": f"{self.emulator_url}/graphql",
            "GITHUB_API_URL": self.emulator_url,
            "GHSYNC_DB": str(self.db),
        }

    def log(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def start(
        self, name: str, command: Sequence[str], env: dict[str, str], cwd: Path = ROOT
    ) -> None:
        """Start a long-running process, its output to `<name>.log`; `name` starts with its
        kind (`worker-2`: a worker), which says how it stops."""
        with self.log(name).open("w") as output:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )

    def run(self, step: str, command: Sequence[str], env: dict[str, str] | None = None) -> str:
        """Run one command to its end, timed as `step`; its output, or an error with it."""
        started = time.monotonic()
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        self.timings[step] = time.monotonic() - started
        self.log(step).write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"{step} exited {done.returncode}: see {self.log(step)}")
        return done.stdout

    def wait_for(self, step: str, ready: str, started: float, timeout: float = 60.0) -> None:
        """Wait until `ready` appears in the step's log; times the step from `started`."""
        while ready not in self.log(step).read_text():
            process = self.processes[step]
            if process.poll() is not None:
                raise RuntimeError(f"{step} exited {process.returncode}: see {self.log(step)}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{step} not ready after {timeout} s: see {self.log(step)}")
            time.sleep(0.1)
        self.timings[step] = time.monotonic() - started

    def stop(self) -> list[int]:
        """Stop every process, last started first; returns their process-group ids."""
        groups = []
        for name, process in reversed(self.processes.items()):
            groups.append(process.pid)
            for number, seconds in STOP_SIGNALS[name.split("-")[0]]:
                if process.poll() is not None:
                    break
                os.killpg(process.pid, number)
                try:
                    process.wait(timeout=seconds)
                except subprocess.TimeoutExpired:
                    continue
            if process.poll() is None:  # a last resort, so nothing is left behind
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return groups

    def api(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """The Prefect REST API."""
        return fetch_json(self.api_url + path, body)


def fetch_json(url: str, body: dict[str, Any] | None = None) -> Any:
    """POST (with a body) or GET `url`; the decoded JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def start_emulator(stack: Stack, repos: int, prs: int) -> None:
    started = time.monotonic()
    stack.start(
        "emulator",
        [str(BIN / "ghsync"), "emulator", "serve", "--port", "0", "--repos", str(repos),
         "--prs", str(prs), "--tokens", ",".join(TOKENS)],
        stack.env,
    )  # fmt: skip
    stack.wait_for("emulator", "Ctrl-C stops it", started)
    found = re.search(r"on (http://[\d.]+:\d+)", stack.log("emulator").read_text())
    assert found, "the emulator printed no URL"
    stack.emulator_url = found.group(1)


def start_server(stack: Stack, port: int, database: str | None = None) -> None:
    """`prefect server start`, its database at the SQLAlchemy URL `database` (None: SQLite in
    its PREFECT_HOME); every later command and the workers talk to it."""
    stack.ui_url = f"http://127.0.0.1:{port}"
    stack.api_url = f"{stack.ui_url}/api"
    stack.env["PREFECT_API_URL"] = stack.api_url
    started = time.monotonic()
    command = ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = {**stack.env, "PREFECT_API_DATABASE_CONNECTION_URL": database} if database else stack.env
    stack.start("server", [str(BIN / "prefect"), *command], env)
    while True:
        try:
            if stack.api("/health") is True:
                break
        except OSError:
            pass
        if stack.processes["server"].poll() is not None or time.monotonic() - started > 90:
            raise RuntimeError(f"the server did not start: see {stack.log('server')}")
        time.sleep(0.2)
    stack.timings["server"] = time.monotonic() - started


def prefect(stack: Stack, step: str, *arguments: str, env: dict[str, str] | None = None) -> str:
    return stack.run(step, [str(BIN / "prefect"), *arguments], env)


def start_worker(stack: Stack) -> None:
    started = time.monotonic()
    command = [str(BIN / "prefect"), "worker", "start", "--pool", POOL]
    stack.start("worker", command, stack.worker_env())
    stack.wait_for("worker", "started!", started)


def run_sequence(stack: Stack, *, repos: int = 2, prs: int = 30) -> None:
    """The README sequence against a fresh emulator, up to a finished incremental run."""
    start_emulator(stack, repos, prs)
    start_server(stack, free_port())
    deploy(stack, orgs=[ORG])
    start_worker(stack)
    prefect(
        stack, "run", "deployment", "run", "sync-repos/incremental",
        "--param", "days_back=null", "--watch",
    )  # fmt: skip


def deploy(stack: Stack, *, orgs: list[str]) -> None:
    """The README's steps 2-4: the work pool, the tokens' Secret block, what to sync (`orgs`),
    every deployment of prefect.yaml."""
    prefect(stack, "pool", "work-pool", "create", POOL, "--type", "process")
    secret_env = {**stack.env, "GITHUB_TOKENS": ",".join(TOKENS)}
    stack.run("secret", [str(BIN / "python"), "-c", SAVE_SECRET], secret_env)
    prefect(stack, "variable orgs", "variable", "set", "ghsync_orgs", json.dumps(orgs))
    prefect(stack, "variable repos", "variable", "set", "ghsync_repos", "[]")
    prefect(stack, "deploy", "--no-prompt", "deploy", "--all")


@contextmanager
def trial_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ghsync-prefect-") as home:
        yield Path(home)


def main() -> None:
    """`make prefect-trial`: the sequence, the UI left up until Enter, then everything stops."""
    with trial_home() as home:
        stack = Stack(home, home / "ghsync.duckdb")
        try:
            run_sequence(stack)
            for step, seconds in stack.timings.items():
                print(f"{step:>14}: {seconds:5.1f} s")
            print(stack.run("status", [str(BIN / "ghsync"), "status"], stack.worker_env()))
            print(f"UI: {stack.ui_url}  warehouse: {stack.db}  logs: {home}")
            if sys.stdin.isatty():
                input("Press Enter to stop everything. ")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
