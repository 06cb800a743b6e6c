"""Scenarios 4-5: a token revoked mid-run, every token exhausted (reset soon: wait; reset
beyond max_wait: stop clearly, and a later run completes from the checkpoint)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.sync import sync_repos
from ghsync.emulator import EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens


@pytest.mark.scenario("4. Token revoked halfway")
async def test_token_revoked_halfway_the_others_finish(scenario: Scenario, tmp_path: Path) -> None:
    first, *others = tokens = fake_tokens("fgh")
    emulator = scenario.emulator(
        EmulatorConfig(
            seed=104, repos=2, prs=40, tokens=tokens, faults=FaultConfig(revoke_after={first: 6})
        )
    )
    for other in others:
        emulator.set_token_budget(other, remaining=4000)  # the revoked one is chosen first
    db = tmp_path / "w.duckdb"
    repos = ["acme/repo-1", "acme/repo-2"]
    outcomes = await sync_repos(repos=repos, days_back=None, db=str(db), page_size=10)
    assert {o.state for o in outcomes} == {"synced"}
    stats = emulator.stats()
    assert stats["counters"]["unauthorized"] >= 1
    assert all(stats["points"].get(label, 0) > 0 for label in ("token-2", "token-3"))
    assert any("token ghp_…ffff rejected" in line for line in scenario.evidence.logs)
    assert_equals_truth(db, emulator, *repos)


@pytest.mark.scenario("5. Tokens exhausted, reset soon")
async def test_exhausted_tokens_reset_soon_the_run_waits(
    scenario: Scenario, tmp_path: Path
) -> None:
    tokens = fake_tokens("ij")
    emulator = scenario.emulator(EmulatorConfig(seed=105, repos=1, prs=30, tokens=tokens))
    for token in tokens:
        emulator.set_token_budget(token, remaining=0, reset_in=3)
    db = tmp_path / "w.duckdb"
    [outcome] = await sync_repos(
        repos=["acme/repo-1"], days_back=None, db=str(db), page_size=15, max_wait_seconds=30
    )
    assert outcome.state == "synced"
    stats = emulator.stats()
    assert stats["counters"]["rate_limited"] >= 1
    assert stats["points_total"] > 0  # charged answers: the run asked again after the reset
    assert_equals_truth(db, emulator, "acme/repo-1")


@pytest.mark.scenario("5. Tokens exhausted beyond max_wait")
def test_exhausted_beyond_max_wait_stops_then_resumes(scenario: Scenario, tmp_path: Path) -> None:
    """Through the CLI (maximum wait 900 s), resets an hour away: with no point left the run
    stops before any repository; with 3 points (the metadata check and two pages of 10, their
    check runs deferred below the reserve) the repository stops mid-walk. Either way exit 1,
    one clear line. Then, the budget back, a run completes from the checkpoint."""
    [token] = tokens = fake_tokens("k")
    emulator = scenario.emulator(EmulatorConfig(seed=106, repos=1, prs=50, tokens=tokens))
    db = tmp_path / "w.duckdb"
    sync = ("sync", "acme/repo-1", "--db", str(db), "--full", "--page-size", "10")
    emulator.set_token_budget(token, remaining=0, reset_in=3600)
    spent = scenario.cli(*sync)
    assert spent.returncode == 1, spent.stderr[-2000:]
    last = spent.stderr.strip().splitlines()[-1]
    assert last.startswith("error: all tokens (ghp_…kkkk) are rate limited until"), last
    emulator.set_token_budget(token, remaining=3)
    stopped = scenario.cli(*sync)
    assert stopped.returncode == 1, stopped.stderr[-2000:]
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 repository failed: acme/repo-1: all tokens"), last
    assert last.endswith("finished pages are kept, run again after that time"), last
    with duckdb.connect(str(db), read_only=True) as connection:
        loaded = connection.execute("SELECT count(*) FROM pull_requests").fetchone()
        state = connection.execute("SELECT status, cursor FROM sync_state").fetchone()
    assert loaded is not None and 0 < loaded[0] < 50
    assert state is not None and state[1] is not None
    pages_before = emulator.stats()["counters"]["op:PullRequestPage"]
    emulator.set_token_budget(token, remaining=5000)
    resumed = scenario.cli(*sync)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    pages_after = emulator.stats()["counters"]["op:PullRequestPage"] - pages_before
    assert pages_before + pages_after == 5  # each page once: fetched pages come from the cache
    assert_equals_truth(db, emulator, "acme/repo-1")
