"""The sync flow against the emulator, a real Prefect server and real DuckDB files: the tables
equal GitHub's truth, re-syncs cost what they should, bad input fails clearly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.errors import ConfigError, ReposFailed
from tests.conftest import emulated
from tests.integration.truth import QUERIES, ci_running, differences

TOKENS = tuple(f"ghp_{c * 36}" for c in "fgh")


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    """An emulator of its own (tests change its data), the flow pointed at it."""
    config = EmulatorConfig(seed=11, repos=2, prs=40, tokens=TOKENS)
    with emulated(monkeypatch, config) as running:
        yield running


def assert_equals_truth(db: Path, emulator: Emulator, *repos: str) -> None:
    for repo in repos:
        truth = emulator.truth(repo)
        assert truth is not None
        assert differences(db, truth) == {}, repo


def snapshot(db: Path) -> dict[str, list[Any]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return {t: sorted(map(str, connection.execute(q).fetchall())) for t, q in QUERIES.items()}


async def test_org_sync_equals_truth_then_unchanged_costs_one_point_and_the_running_ci(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    outcomes = await sync_repos(orgs=["acme"], days_back=None, db=str(db))
    assert {o.repo: o.state for o in outcomes} == {
        "acme/empty": "unchanged",
        "acme/repo-1": "synced",
        "acme/repo-2": "synced",
    }
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/repo-2", "acme/empty")
    heavy = emulator.truth("acme/repo-1")["pullRequests"]
    assert any(len(pr["reviews"]) > 100 for pr in heavy)
    assert any(len(pr["checkRuns"]) > 100 for pr in heavy)
    before = snapshot(db)
    emulator.reset_stats()
    repos = ["acme/repo-1", "acme/repo-2", "acme/empty"]
    again = await sync_repos(repos=repos, db=str(db), ci_recheck_days=0)
    assert {o.state for o in again} == {"unchanged"}
    running = {
        repo: sum(1 for pr in emulator.truth(repo)["pullRequests"] if ci_running(pr))
        for repo in ("acme/repo-1", "acme/repo-2")
    }
    assert all(running.values())
    stats = emulator.stats()
    # One metadata check for the three, with several tokens one Viewer each first (whose
    # account it is), and per repository one request for the head commits whose CI was still
    # running (GitHub would not bump their PRs when it finishes): their suites and runs in one
    # pass, a request of 1 point.
    ops = {k: v for k, v in stats["counters"].items() if k.startswith("op:")}
    assert ops == {"op:RepoMetadata": 1, "op:Viewer": len(TOKENS), "op:CheckRunsOnePass": 2}
    assert stats["points_total"] == 1 + len(TOKENS) + 2
    assert {o.repo: o.ci_repolled for o in again} == {**running, "acme/empty": 0}
    assert snapshot(db) == before


async def test_activity_between_runs_is_caught_cheaply(emulator: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    await sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db))
    truth = {pr["number"]: pr for pr in emulator.truth("acme/repo-1")["pullRequests"]}
    open_prs = [n for n, pr in truth.items() if pr["state"] == "OPEN"]
    labelled = next(n for n, pr in truth.items() if pr["labels"] and len(pr["files"]) > 1)
    emulator.activity("add_review", "acme/repo-1", open_prs[0])
    emulator.activity("merge", "acme/repo-1", open_prs[1])
    emulator.activity("close", "acme/repo-1", open_prs[2])
    emulator.activity("add_commit", "acme/repo-1", open_prs[3])
    emulator.activity("rerun_checks", "acme/repo-1", open_prs[3])
    emulator.activity("remove_label", "acme/repo-1", labelled)
    emulator.activity("remove_file", "acme/repo-1", labelled)
    emulator.activity("open", "acme/repo-1")
    emulator.reset_stats()
    [outcome] = await sync_repos(repos=["acme/repo-1"], db=str(db))
    assert outcome.state == "synced"
    assert outcome.prs <= 10  # the changed PRs (and those updated in the same second), not all
    assert_equals_truth(db, emulator, "acme/repo-1")
    assert emulator.stats()["points_total"] <= 8 + len(TOKENS)  # and a Viewer per token


async def test_days_back_bounds_a_first_sync_and_full_gets_everything(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    truth = emulator.truth("acme/repo-2")["pullRequests"]
    updates = sorted(pr["updatedAt"] for pr in truth)
    [outcome] = await sync_repos(repos=["acme/repo-2"], days_back=30, db=str(db))
    with duckdb.connect(str(db), read_only=True) as connection:
        loaded = connection.execute("SELECT count(*) FROM pull_requests").fetchone()
        oldest = connection.execute("SELECT min(updated_at) FROM pull_requests").fetchone()
    assert loaded is not None and oldest is not None
    assert 0 < loaded[0] < len(truth)
    assert loaded[0] == outcome.prs
    assert oldest[0].isoformat().replace("+00:00", "Z") >= updates[len(truth) - loaded[0]]
    await sync_repos(repos=["acme/repo-2"], full=True, db=str(db))
    assert_equals_truth(db, emulator, "acme/repo-2")


async def test_bad_names_fail_before_any_request(emulator: Emulator, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'acme'.*'a/b/c'"):
        await sync_repos(repos=["acme/repo-1", "acme", "a/b/c"], db=str(tmp_path / "w.duckdb"))
    assert emulator.stats()["counters"].get("graphql_requests", 0) == 0


async def test_unknown_repo_fails_alone_and_the_others_finish(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    emulator.set_faults(denied_repos={"acme/repo-2": "FORBIDDEN"})
    with pytest.raises(ReposFailed) as failed:
        await sync_repos(
            repos=["acme/nope", "acme/repo-1", "acme/repo-2"], days_back=None, db=str(db)
        )
    assert set(failed.value.failures) == {"acme/nope", "acme/repo-2"}
    assert "not found" in failed.value.failures["acme/nope"]
    assert_equals_truth(db, emulator, "acme/repo-1")


async def test_check_runs_are_deferred_when_tokens_run_low(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    for token in TOKENS:
        emulator.set_token_budget(token, remaining=150)
    [outcome] = await sync_repos(
        repos=["acme/repo-1"], days_back=None, db=str(db), check_run_reserve=200
    )
    assert outcome.deferred_checks == 40 and outcome.rows["check_runs"] == 0
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM check_runs").fetchone() == (0,)
        pending = connection.execute("SELECT len(pending_check_runs) FROM sync_state").fetchone()
    assert pending == (40,)
    for token in TOKENS:
        emulator.set_token_budget(token, remaining=5000)
    [later] = await sync_repos(repos=["acme/repo-1"], db=str(db), check_run_reserve=200)
    assert later.state == "unchanged" and later.rows["check_runs"] > 0
    assert_equals_truth(db, emulator, "acme/repo-1")


async def test_org_without_repos_and_an_archived_repo_named_explicitly(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    outcomes = await sync_repos(
        orgs=["acme-empty"], repos=["acme/archived"], days_back=None, db=str(db)
    )
    assert [(o.repo, o.state) for o in outcomes] == [("acme/archived", "synced")]
    assert_equals_truth(db, emulator, "acme/archived")
    assert await sync_repos(orgs=["acme-empty"], db=str(db)) == []
