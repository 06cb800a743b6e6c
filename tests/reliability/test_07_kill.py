"""Scenario 7: `ghsync sync` killed with SIGKILL several times at random points: after each
kill the database opens and holds whole pages only; the next run completes to the truth. On
the temporary Prefect server (no PREFECT_API_URL), the token slots a killed run held are
freed by the next run, which would otherwise wait for them forever."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from pathlib import Path

import duckdb
import pytest

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from ghsync.warehouse import Warehouse
from tests.integration.truth import differences
from tests.prefect_limits import free_token_slots
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens

REPO = "acme/repo-1"
PRS, PAGE, KILLS = 120, 10, 3
TOKENS = fake_tokens("mn")


def page_requests(emulator: Emulator) -> int:
    return int(emulator.stats()["counters"].get("op:PullRequestPage", 0))


def children(pid: int) -> list[int]:
    """The processes `pid` started (Linux)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def loaded_numbers(db: Path) -> set[int]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return {n for (n,) in connection.execute("SELECT number FROM pull_requests").fetchall()}


def assert_whole_pages(db: Path, emulator: Emulator) -> int:
    """The file opens (and migrates), and every PR it holds is complete: PR rows in whole
    pages, each PR's reviews, commits and files equal to the truth, and its check runs too
    unless its head commit is pending in the sync state (a page's CI comes after it)."""
    warehouse = Warehouse.open(db)
    state = warehouse.read_sync_state(REPO)
    warehouse.close()
    pending = {head.number for head in state.pending_check_runs} if state else set()
    numbers = loaded_numbers(db)
    assert len(numbers) % PAGE == 0, f"{len(numbers)} PRs: a page was loaded in part"
    truth = emulator.truth(REPO)
    assert truth is not None
    loaded = [pr for pr in truth["pullRequests"] if pr["number"] in numbers]
    assert differences(db, {**truth, "pullRequests": loaded}, pending) == {}
    return len(numbers)


@pytest.mark.scenario("7. SIGKILL mid-load, several times")
async def test_killed_several_times_then_completes(scenario: Scenario, tmp_path: Path) -> None:
    emulator = scenario.emulator(
        EmulatorConfig(
            seed=108, repos=1, prs=PRS, tokens=TOKENS, faults=FaultConfig(latency_ms=150)
        )
    )
    db = tmp_path / "w.duckdb"
    args = ("sync", REPO, "--db", str(db), "--full", "--page-size", str(PAGE))
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    progress = []
    for kill in range(KILLS):
        target = page_requests(emulator) + rng.randint(1, 2)
        process = scenario.start_cli(*args, log=tmp_path / f"kill-{kill}.log")
        deadline = time.monotonic() + 120
        while page_requests(emulator) < target and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 0.6))  # somewhere in fetch, map or load
        assert process.poll() is None, f"the sync ended before kill {kill + 1} (seed {seed})"
        process.kill()
        process.wait()
        progress.append(assert_whole_pages(db, emulator))
        free_token_slots(TOKENS)
    assert progress[-1] < PRS, f"nothing left for the last run (seed {seed})"
    done = scenario.cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_equals_truth(db, emulator, REPO)
    # every page fetched once, plus at most the one each kill interrupted
    assert PRS // PAGE <= page_requests(emulator) <= PRS // PAGE + KILLS


@pytest.mark.scenario("7. SIGKILL on the temporary Prefect server")
async def test_the_next_run_frees_the_slots_a_killed_run_held(
    scenario: Scenario, tmp_path: Path
) -> None:
    emulator = scenario.emulator(
        EmulatorConfig(seed=109, repos=1, prs=60, tokens=TOKENS, faults=FaultConfig(latency_ms=300))
    )
    db = tmp_path / "w.duckdb"
    args = ("sync", REPO, "--db", str(db), "--full", "--page-size", str(PAGE),
            "--concurrency-per-token", "1")  # fmt: skip
    # One slot per token: the killed run holds them all. An empty PREFECT_API_URL: each run
    # starts a temporary server on this PREFECT_HOME.
    temporary = {"PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect")}
    process = scenario.start_cli(*args, log=tmp_path / "killed.log", **temporary)
    deadline = time.monotonic() + 120
    while page_requests(emulator) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert process.poll() is None, "the sync ended before the kill"
    server = children(process.pid)  # the temporary Prefect server
    process.kill()  # mid-request: it holds token slots it can never hand back
    process.wait()
    for pid in server:  # Prefect's temporary server outlives a SIGKILLed parent
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    done = scenario.cli(*args, **temporary)  # waited for the slots forever, before
    assert done.returncode == 0, done.stderr[-2000:]
    assert "left taken by a run that was killed" in done.stdout + done.stderr
    assert_equals_truth(db, emulator, REPO)
