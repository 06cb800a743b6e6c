"""Fixtures of the reliability scenarios (issue 7): a `scenario` per test (its emulators, CLI
runs and figures), the evidence scenario 10 searches for tokens, and RESULTS.md.

Each scenario test is marked `@pytest.mark.scenario("N. title")`. Its figures (requests,
retries, points from the emulators' counters; wall time) are written to RESULTS.md at the end
of a session that ran every scenario.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, running_emulator
from tests.conftest import QUIET
from tests.integration.truth import differences

RESULTS = Path(__file__).with_name("RESULTS.md")
FAULTS = ("secondary", "timeouts", "resource_limited", "http_500", "http_502", "http_503",
          "dropped", "unauthorized", "rate_limited")  # fmt: skip
"""Emulator counters of answers that make the client ask again: the scenario's retries."""


def fake_tokens(letters: str) -> tuple[str, ...]:
    """One fake token per letter: `ghp_` + 36 times the letter."""
    return tuple(f"ghp_{letter * 36}" for letter in letters)


@dataclass
class Evidence:
    """What the scenarios left that must hold no token (scenario 10 searches it)."""

    logs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(self.format(record))


@pytest.fixture(scope="session")
def evidence() -> Iterator[Evidence]:
    """Every log record of the session (ghsync's at DEBUG), and what the tests add to it."""
    found = Evidence()
    handler = _Collect(found.logs)
    loggers = [logging.getLogger(name) for name in ("", "prefect", "ghsync")]
    ghsync_level = loggers[2].level
    loggers[2].setLevel(logging.DEBUG)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield found
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        loggers[2].setLevel(ghsync_level)


@dataclass
class Row:
    label: str
    test: str
    requests: int = 0
    retries: int = 0
    points: int = 0
    seconds: float = 0.0


class Scenario:
    """One scenario's emulators, CLI runs and figures."""

    def __init__(
        self,
        row: Row,
        stack: ExitStack,
        monkeypatch: pytest.MonkeyPatch,
        evidence: Evidence,
        api_url: str,
        prefect_home: Path,
    ) -> None:
        self.row = row
        self.evidence = evidence
        self._stack = stack
        self._monkeypatch = monkeypatch
        self._api_url = api_url
        self.prefect_home = prefect_home
        self._emulators: list[Emulator] = []

    def emulator(self, config: EmulatorConfig) -> Emulator:
        """Start an emulator for this scenario and point the flow (and CLI runs) at it."""
        running = self._stack.enter_context(running_emulator(config))
        self._stack.callback(self._count, running)
        self._emulators.append(running)
        tokens = [entry.partition("=")[0] for entry in config.tokens]
        self.evidence.tokens.update(tokens)
        self._monkeypatch.setenv("GITHUB_TOKENS", ",".join(tokens))
        self._monkeypatch.setenv("GITHUB_GRAPHQL_URL", running.graphql_url)
        self._monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        return running

    def cleanup(self, callback: Callable[[], object]) -> None:
        """Call `callback` at the scenario's end."""
        self._stack.callback(callback)

    def env(self, **changes: str) -> dict[str, str]:
        """The environment of a `ghsync` process: this session's Prefect server and home."""
        return {
            **os.environ,
            **QUIET,
            "PREFECT_API_URL": self._api_url,
            "PREFECT_HOME": str(self.prefect_home),
            **changes,
        }

    def cli(
        self, *args: str, wrapper: Sequence[str] = (), **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `ghsync ARGS` (under `wrapper`, a command prefix) to the end; its output is
        kept as evidence."""
        done = subprocess.run(
            [*wrapper, *ghsync_command(*args)],
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=240,
        )
        self.evidence.outputs += [done.stdout, done.stderr]
        return done

    def start_cli(self, *args: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
        """Start `ghsync ARGS` in the background, output to `log`; stopped at teardown."""
        output = self._stack.enter_context(log.open("wb"))
        process = subprocess.Popen(
            ghsync_command(*args), env=self.env(**env), stdout=output, stderr=subprocess.STDOUT
        )
        self._stack.callback(self._stop, process, log)
        return process

    def _stop(self, process: subprocess.Popen[bytes], log: Path) -> None:
        if process.poll() is None:
            process.kill()
        process.wait()
        self.evidence.outputs.append(log.read_text(errors="replace"))

    def _count(self, emulator: Emulator) -> None:
        stats = emulator.stats()
        counters = stats["counters"]
        self.row.requests += counters.get("requests", 0)
        self.row.retries += sum(counters.get(name, 0) for name in FAULTS)
        self.row.points += stats["points_total"]


def ghsync_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ghsync.cli", *args]


def assert_equals_truth(db: Path, emulator: Emulator, *repos: str) -> None:
    """Every table of `db` equals GitHub's truth for each repository, as sets of rows."""
    for repo in repos:
        truth = emulator.truth(repo)
        assert truth is not None, repo
        assert differences(db, truth) == {}, repo


_ROWS = pytest.StashKey[list[Row]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(label): a reliability scenario of issue 7")
    config.stash[_ROWS] = []


@pytest.fixture
def scenario(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    evidence: Evidence,
    prefect_server: str,
    prefect_home: Path,
) -> Iterator[Scenario]:
    marker = request.node.get_closest_marker("scenario")
    assert marker is not None, "mark the test with @pytest.mark.scenario(label)"
    row = Row(marker.args[0], request.node.name)
    started = time.monotonic()
    with ExitStack() as stack:
        yield Scenario(row, stack, monkeypatch, evidence, prefect_server, prefect_home)
    row.seconds = time.monotonic() - started
    request.config.stash[_ROWS].append(row)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
    """RESULTS.md, when every scenario of this directory ran (a partial run keeps the file) and
    GHSYNC_WRITE_RESULTS is set, so an ordinary `make test` leaves the tree clean."""
    if not os.environ.get("GHSYNC_WRITE_RESULTS"):
        return
    rows = session.config.stash.get(_ROWS, [])
    scenarios = [item for item in session.items if item.get_closest_marker("scenario")]
    if not rows or len(rows) < len(scenarios):
        return
    RESULTS.write_text(results_markdown(rows, exitstatus))


def results_markdown(rows: Sequence[Row], exitstatus: int | pytest.ExitCode) -> str:
    lines = [
        "# Reliability scenarios: figures of the last full run",
        "",
        "Written by `tests/reliability/conftest.py` at the end of a session that ran every",
        "scenario. Requests, retries and points are the emulators' counters (retries: answers",
        f"that made the client ask again: {', '.join(FAULTS)}); wall time includes Prefect.",
        f"Session exit status: {int(exitstatus)}.",
        "",
        "| scenario | test | requests | retries | points | wall s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: (int(r.label.split(".")[0]), r.test)):
        lines.append(
            f"| {row.label} | `{row.test}` | {row.requests} | {row.retries} | {row.points} "
            f"| {row.seconds:.1f} |"
        )
    return "\n".join(lines) + "\n"
