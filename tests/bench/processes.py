"""The processes a benchmark drives besides the emulator: a Prefect server shared by its syncs
(on PostgreSQL when its programs are installed, as Prefect advises for concurrent use), and
`ghsync sync` runs measured for wall time and peak RSS (os.wait4 gives the child's own rusage)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ghsync.lake import Location
from tests.e2e.prefect_stack import free_port
from tests.postgres import postgres_bin, postgres_server

QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
UNLIMITED = ("--points-per-hour", str(10**9), "--points-per-minute", str(10**9))


def bench_tokens(count: int) -> list[str]:
    """`count` distinct emulator tokens."""
    return [f"ghp_{letter * 36}" for letter in "abcdefgh"[:count]]


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL server (tests/postgres.py) with an empty `prefect` database;
    yields its SQLAlchemy URL, or None when PostgreSQL's programs are not installed."""
    if postgres_bin() is None:
        yield None
        return
    with postgres_server() as server:
        server.create_database("prefect")
        yield server.sqlalchemy_url("prefect")


@contextmanager
def prefect_server(home: Path, database: str | None = None) -> Iterator[str]:
    """`prefect server start` on a free port with its own PREFECT_HOME, its database at the
    SQLAlchemy URL `database` (None: SQLite in PREFECT_HOME); yields the API URL."""
    port = free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home)}
    if database:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{api}/health").close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the Prefect server did not start")
        yield api
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@dataclass(frozen=True)
class SyncRun:
    returncode: int
    seconds: float
    peak_rss_mb: float
    output: str


def sync_env(url: str, tokens: list[str], api: str | None, home: Path) -> dict[str, str]:
    """The environment of a `ghsync sync` run: emulator, tokens, Prefect server (None: its own
    temporary one) and PREFECT_HOME (where checkpoints persist)."""
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home), "GITHUB_TOKENS": ",".join(tokens)}
    env["GITHUB_GRAPHQL_URL"] = f"{url}/graphql"
    env.pop("PREFECT_API_URL", None)
    if api:
        env["PREFECT_API_URL"] = api
    return env


def sync_command(repos: list[str], db: Location, *options: str) -> list[str]:
    return [sys.executable, "-m", "ghsync.cli", "sync", *repos, "--db", str(db), *options]


def run_sync(
    command: list[str], env: dict[str, str], until: Callable[[], bool] | None = None
) -> SyncRun:
    """Run `command`; with `until`, SIGKILL it as soon as `until()` is true."""
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        while until is not None and process.poll() is None and not until():
            time.sleep(0.05)
        if until is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return SyncRun(process.returncode, seconds, usage.ru_maxrss / 1024, output)
