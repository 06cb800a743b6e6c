"""A sync killed mid-run (SIGKILL, a real process) resumes without re-fetching finished pages;
a PR updated while its pages are walked is caught by the next run, never lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from tests.conftest import emulated
from tests.integration.truth import differences
from tests.prefect_limits import free_token_slots

TOKENS = tuple(f"ghp_{c * 36}" for c in "jk")
PAGE = 10


@pytest.fixture
def slow_emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    """120 PRs, 12 pages of 10, each request 80 ms: slow enough to interrupt."""
    config = EmulatorConfig(
        seed=21, repos=1, prs=120, tokens=TOKENS, faults=FaultConfig(latency_ms=80)
    )
    with emulated(monkeypatch, config) as running:
        yield running


def page_requests(emulator: Emulator) -> int:
    return int(emulator.stats()["counters"].get("op:PullRequestPage", 0))


def test_killed_sync_resumes_without_refetching_finished_pages(
    slow_emulator: Emulator, prefect_server: str, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "p")}
    command = [
        sys.executable,
        "-m",
        "ghsync.cli",
        "sync",
        "acme/repo-1",
        "--db",
        str(db),
        "--full",
        "--page-size",
        str(PAGE),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while page_requests(slow_emulator) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, "the sync ended before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    fetched_before_kill = page_requests(slow_emulator)
    assert 5 <= fetched_before_kill < 120 // PAGE
    storage = tmp_path / "p" / "storage"
    [session] = storage.glob("ghsync-session-*")  # the killed session's checkpoints
    assert list(session.iterdir())
    free_token_slots(TOKENS)  # the test server never expires the killed run's slot leases
    slow_emulator.reset_stats()
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    fetched_after = page_requests(slow_emulator)
    # every page once; at most the one whose request the kill interrupted is asked twice (the
    # next page is asked only once the previous one's fetch has finished and been checkpointed)
    assert 120 // PAGE <= fetched_before_kill + fetched_after <= 120 // PAGE + 1
    truth = slow_emulator.truth("acme/repo-1")
    assert truth is not None
    assert differences(db, truth) == {}
    assert not session.exists()  # replayed, then removed with the finished session


async def test_pr_updated_during_the_walk_is_caught_next_run(
    slow_emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    truth = slow_emulator.truth("acme/repo-1")
    assert truth is not None
    oldest = min(truth["pullRequests"], key=lambda pr: pr["updatedAt"])

    def touch_after_two_pages() -> None:
        deadline = time.monotonic() + 120
        while page_requests(slow_emulator) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        slow_emulator.activity("add_review", "acme/repo-1", oldest["number"])

    toucher = threading.Thread(target=touch_after_two_pages)
    toucher.start()
    await sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db), page_size=PAGE)
    toucher.join()
    await sync_repos(repos=["acme/repo-1"], db=str(db), page_size=PAGE)
    after = slow_emulator.truth("acme/repo-1")
    assert after is not None
    assert differences(db, after) == {}
