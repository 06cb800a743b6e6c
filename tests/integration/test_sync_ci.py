"""What GitHub changes without moving a PR's updatedAt (CI finishing, re-runs, statuses) and
what a repair must ask again: the sync against the emulator, a real Prefect server and DuckDB.

Issue 13, items 1, 2 and 4: CI that settles after the PR's last update reaches the warehouse
on the next incremental run; `--full` asks GitHub again instead of replaying checkpoints, and
`checkpoints: false` writes none; the page size that worked outlives the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from tests.conftest import emulated
from tests.integration.truth import ci_running, differences

TOKENS = (f"ghp_{'q' * 36}",)
REPO = "acme/repo-1"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    config = EmulatorConfig(seed=31, repos=1, prs=30, heavy_prs=False, tokens=TOKENS)
    with emulated(monkeypatch, config) as running:
        yield running


def prs(emulator: Emulator) -> dict[int, dict[str, Any]]:
    truth = emulator.truth(REPO)
    assert truth is not None
    return {pr["number"]: pr for pr in truth["pullRequests"]}


def equals_truth(db: Path, emulator: Emulator) -> dict[str, Any]:
    truth = emulator.truth(REPO)
    assert truth is not None
    return differences(db, truth)


def ci_requests(emulator: Emulator) -> int:
    """The requests that asked for CI (CheckRuns, CheckRunsOnePass, CheckSuiteRuns, and
    mixed ones holding them)."""
    counters = emulator.stats()["counters"]
    return sum(int(n) for op, n in counters.items() if op.startswith("op:") and "Check" in op)


def check_runs(db: Path, number: int) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(
            "SELECT check_run_id, status, conclusion FROM check_runs WHERE number = ? "
            "ORDER BY check_run_id",
            [number],
        ).fetchall()


async def test_ci_finishing_after_the_sync_reaches_the_next_incremental_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    await sync_repos(repos=[REPO], days_back=None, db=str(db))
    open_prs = sorted(n for n, pr in prs(emulator).items() if pr["state"] == "OPEN")
    pushed, queued, legacy = open_prs[:3]
    for number in (pushed, queued, legacy):
        emulator.activity("add_commit", REPO, number)  # a push: the PR moves, its CI starts
    emulator.activity("queue_checks", REPO, queued)  # CI events: the PRs do not move
    emulator.activity("post_status", REPO, legacy)
    before = prs(emulator)
    [synced] = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert synced.state == "synced" and synced.prs >= 1
    assert equals_truth(db, emulator) == {}  # the running CI, as GitHub shows it now
    assert all(ci_running(before[n]) for n in (pushed, queued, legacy))

    for number in (pushed, queued, legacy):
        emulator.activity("finish_checks", REPO, number)
    assert {n: pr["updatedAt"] for n, pr in prs(emulator).items()} == {
        n: pr["updatedAt"] for n, pr in before.items()
    }  # GitHub moved no PR: only asking about the commits again shows the change
    emulator.reset_stats()
    [settled] = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert settled.state == "unchanged"
    assert equals_truth(db, emulator) == {}
    assert settled.ci_changed >= 3 and settled.ci_repolled >= settled.ci_changed
    # Every due commit in one request (their suites and runs in one pass), but for a commit
    # with more check suites than the 4 asked (the push and the re-queue made 5 or more):
    # its further suites, and their runs.
    counters = emulator.stats()["counters"]
    assert counters["op:CheckRunsOnePass"] == 1 and ci_requests(emulator) <= 3

    still_running = sum(1 for pr in prs(emulator).values() if ci_running(pr))
    emulator.reset_stats()
    [after] = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert after.ci_repolled == still_running  # settled ones are asked no more
    assert after.ci_changed == 0


async def test_a_rerun_of_a_finished_check_on_an_open_pr_adds_a_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    number = min(n for n, pr in prs(emulator).items() if pr["state"] == "OPEN")
    emulator.activity("add_review", REPO, number)  # updated now: within ci_recheck_days
    emulator.activity("finish_checks", REPO, number)
    await sync_repos(repos=[REPO], days_back=None, db=str(db))
    finished = check_runs(db, number)
    assert finished and all(status == "COMPLETED" for _, status, _ in finished)

    emulator.activity("rerun_checks", REPO, number)
    [without] = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert check_runs(db, number) == finished  # settled and not re-checked: not seen
    [rerun] = await sync_repos(repos=[REPO], db=str(db))  # default: 3 days
    assert rerun.state == without.state == "unchanged"
    runs = check_runs(db, number)
    assert set(finished) < set(runs) and len(runs) == len(finished) + 1  # old one kept
    assert equals_truth(db, emulator) == {}
    emulator.activity("finish_checks", REPO, number)
    await sync_repos(repos=[REPO], db=str(db))
    assert len(check_runs(db, number)) == len(runs)  # replaced, not appended
    assert equals_truth(db, emulator) == {}


async def test_closed_prs_with_settled_ci_cost_no_repoll(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    await sync_repos(repos=[REPO], days_back=None, db=str(db))
    for number, pr in prs(emulator).items():
        if ci_running(pr):
            emulator.activity("finish_checks", REPO, number)
    await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)  # learns they settled
    emulator.reset_stats()
    [quiet] = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert quiet.ci_repolled == 0
    assert emulator.stats()["counters"]["graphql_requests"] == 1  # the metadata check only
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT len(pending_check_runs) FROM sync_state").fetchone() == (
            0,
        )
    assert equals_truth(db, emulator) == {}


async def test_full_twice_asks_github_twice_and_no_checkpoints_writes_none(
    emulator: Emulator, tmp_path: Path, prefect_home: Path
) -> None:
    db = tmp_path / "w.duckdb"
    await sync_repos(repos=[REPO], full=True, db=str(db), page_size=10)
    first = emulator.stats()["counters"]["op:PullRequestPage"]
    number = next(iter(prs(emulator)))
    emulator.activity("finish_checks", REPO, number)
    emulator.reset_stats()
    await sync_repos(repos=[REPO], full=True, db=str(db), page_size=10, ci_recheck_days=0)
    assert emulator.stats()["counters"]["op:PullRequestPage"] == first == 3  # not replayed
    assert equals_truth(db, emulator) == {}

    storage = prefect_home / "storage"
    stored = set(storage.rglob("*")) if storage.exists() else set()
    await sync_repos(repos=[REPO], full=True, db=str(db), checkpoints=False)
    now = set(storage.rglob("*")) if storage.exists() else set()
    assert now == stored  # nothing of the pages persisted under PREFECT_HOME
    assert equals_truth(db, emulator) == {}


async def test_the_page_size_that_worked_outlives_the_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    # Page queries of more than 10 PRs time out (their worst-case node count is above this).
    emulator.set_faults(timeout_node_threshold=3500, timeout_body="json")
    await sync_repos(repos=[REPO], days_back=None, db=str(db), page_size=40)
    assert emulator.stats()["counters"]["timeouts"] >= 1
    assert state_page_size(db) is not None and state_page_size(db) <= 20
    timeouts = []
    for _ in range(3):
        for number in list(prs(emulator))[:3]:
            emulator.activity("touch", REPO, number)
        emulator.reset_stats()
        await sync_repos(repos=[REPO], db=str(db), page_size=40, ci_recheck_days=0)
        timeouts.append(emulator.stats()["counters"].get("timeouts", 0))
    assert timeouts.count(0) >= 2  # grown back by a quarter per run: one timeout at most
    assert equals_truth(db, emulator) == {}


def state_page_size(db: Path) -> int | None:
    with duckdb.connect(str(db), read_only=True) as connection:
        row = connection.execute("SELECT page_size FROM sync_state").fetchone()
    return None if row is None else row[0]
