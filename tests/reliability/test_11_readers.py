"""Scenario 11: an operator watches a sync: `ghsync status` and `ghsync sql` processes, one
after another, while a `ghsync sync` process writes the same file. The readers queue behind
the writer on the file's OS lock (shared by readers), so every reader and the sync exit 0, and
the tables equal the truth.

A reader overlapped the writing when the sync's log had a page loaded before the reader
started and another one loaded after it ended (facts from its log). The emulator answers
slowly (the sync is then far longer than the readers need) until enough readers have
overlapped, then at full speed.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ghsync.emulator import EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens

READERS = 5
"""Reader runs that must have overlapped the sync's writing."""
LOADED = re.compile(r": page \d+, \d+/~\d+ PRs")  # the line per page of a sync not on a terminal
READS = (
    ("status",),
    ("sql", "SELECT repo, count(*) AS prs FROM pull_requests GROUP BY repo"),
)


def pages_loaded(log: Path) -> int:
    return len(LOADED.findall(log.read_text(errors="replace")))


def overlapping(spans: list[tuple[int, int]], loaded: int) -> int:
    """The reader runs that started after a page was loaded, and ended before the last of
    `loaded` pages was: they ran while the sync was writing."""
    return sum(1 for before, after in spans if before >= 1 and after < loaded)


@pytest.mark.scenario("11. Readers during a sync")
def test_readers_during_a_sync_never_fail_it(scenario: Scenario, tmp_path: Path) -> None:
    emulator = scenario.emulator(
        EmulatorConfig(
            seed=111, repos=2, prs=150, tokens=fake_tokens("r"), faults=FaultConfig(latency_ms=1500)
        )
    )
    db, log = tmp_path / "w.duckdb", tmp_path / "sync.log"
    repos = ("acme/repo-1", "acme/repo-2")
    sync = scenario.start_cli(
        "sync", *repos, "--db", str(db), "--full", "--page-size", "10", log=log
    )
    deadline = time.monotonic() + 240
    while pages_loaded(log) == 0 and sync.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # a gate: the first page is in the file
    spans: list[tuple[int, int]] = []  # pages loaded when each reader started, and ended
    failures: list[str] = []
    slow = True
    while sync.poll() is None and time.monotonic() < deadline:
        args = READS[len(spans) % len(READS)]
        before = pages_loaded(log)
        done = scenario.cli(*args, "--db", str(db))
        spans.append((before, pages_loaded(log)))
        if done.returncode != 0:
            failures.append(f"{args[0]} exited {done.returncode}: {done.stderr}")
        if slow and overlapping(spans, pages_loaded(log)) >= READERS:
            emulator.set_faults(latency_ms=0)  # enough readers ran meanwhile: finish the sync
            slow = False
    code = sync.wait(timeout=240)
    assert code == 0, log.read_text()
    assert failures == []
    assert overlapping(spans, pages_loaded(log)) >= READERS, spans
    assert_equals_truth(db, emulator, *repos)
