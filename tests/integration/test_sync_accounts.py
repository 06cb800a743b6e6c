"""Two tokens of one account are one budget: the sync learns the account at its start and does
not count the second token's points twice (GitHub charges every request of a user to that
user's one limit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from tests.conftest import emulated
from tests.integration.truth import ci_running, differences

ALICE = tuple(f"ghp_{c * 36}" for c in "pq")
REPO = "acme/repo-1"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    """One repository of 20 PRs; both tokens are alice's."""
    config = EmulatorConfig(seed=13, repos=1, prs=20, tokens=tuple(f"{t}=alice" for t in ALICE))
    with emulated(monkeypatch, config) as running:
        yield running


def pending_checks(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as connection:
        row = connection.execute("SELECT len(pending_check_runs) FROM sync_state").fetchone()
    assert row is not None
    return int(row[0])


async def test_a_low_account_defers_check_runs_whichever_of_its_tokens_is_asked(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    [first] = await sync_repos(repos=[REPO], days_back=None, db=str(db), check_run_reserve=10**6)
    assert first.deferred_checks == 20 and pending_checks(db) == 20

    # alice's budget, set through her first token, is low: the second token has no more
    emulator.set_token_budget(ALICE[0], remaining=60)
    emulator.reset_stats()
    [low] = await sync_repos(repos=[REPO], db=str(db))  # reserve 100
    assert low.state == "unchanged" and low.rows["check_runs"] == 0
    assert pending_checks(db) == 20  # still deferred: the second token was not taken as fresh
    counters = emulator.stats()["counters"]
    assert not [op for op in counters if op.startswith("op:") and "Check" in op]
    assert counters["op:Viewer"] == 2  # the run asked each token's account first
    assert emulator.stats()["remaining"] == {"token-1": 57, "token-2": 57}

    emulator.set_token_budget(ALICE[1], remaining=5000)  # her budget back, through the other
    [later] = await sync_repos(repos=[REPO], db=str(db))
    assert later.state == "unchanged" and later.rows["check_runs"] > 0
    truth = emulator.truth(REPO)
    assert truth is not None and differences(db, truth) == {}
    # fetched now; only the heads whose CI is still running stay, to be asked again
    assert pending_checks(db) == sum(1 for pr in truth["pullRequests"] if ci_running(pr))
