"""`ghsync status` tells the truth after every kind of run, a deeper `--days-back` fetches the
history not synced yet, finished sessions leave no checkpoints, bad options fail at once
(issue 14: inputs, status, housekeeping). Against the emulator, a real Prefect server, DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.sync import sync_repos
from ghsync.cli import app
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.errors import ConfigError, ReposFailed
from ghsync.filelock import presence, runs_path
from ghsync.warehouse import SyncState, Warehouse
from tests.conftest import emulated
from tests.integration.truth import differences

TOKENS = (f"ghp_{'s' * 36}",)
REPO = "acme/repo-1"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    config = EmulatorConfig(seed=41, repos=2, prs=40, heavy_prs=False, tokens=TOKENS)
    with emulated(monkeypatch, config) as running:
        yield running


def status(db: Path, *options: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["status", "--db", str(db), "--json", *options])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


async def test_status_shows_every_outcome_and_interrupted_runs(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    emulator.set_faults(denied_repos={"acme/repo-2": "FORBIDDEN"})
    with pytest.raises(ReposFailed):
        await sync_repos(repos=[REPO, "acme/repo-2", "acme/nope"], days_back=None, db=str(db))
    rows = {row["repo"]: row for row in status(db)}
    assert {repo: row["status"] for repo, row in rows.items()} == {
        REPO: "synced",
        "acme/repo-2": "not_found",  # FORBIDDEN: invisible to the token, as GitHub answers
        "acme/nope": "not_found",
    }
    assert "not found" in rows["acme/nope"]["error"]
    assert rows[REPO]["error"] is None and rows[REPO]["outcome_at"] is not None
    assert rows[REPO]["history_since"] == "all" and rows[REPO]["prs"] == 40
    assert [row["repo"] for row in status(db, "--repo", "acme/nope")] == ["acme/nope"]

    await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert status(db, "--repo", REPO)[0]["status"] == "unchanged"

    # A run that stopped mid-session leaves `running`: interrupted unless a sync is alive.
    with Warehouse.open(db) as warehouse:
        stopped = SyncState(
            REPO, status="running", session_id="abc", window_until=datetime.now(UTC)
        )
        warehouse.write_sync_state(stopped)
    [row] = status(db, "--repo", REPO)
    assert (row["status"], row["session_open"]) == ("interrupted", True)
    async with presence(runs_path(db), _nothing):  # as a live sync of this file holds it
        assert status(db, "--repo", REPO)[0]["status"] == "running"


async def _nothing() -> None:
    pass


async def test_a_deeper_days_back_fetches_the_older_history_then_goes_incremental(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    [first] = await sync_repos(repos=[REPO], days_back=20, db=str(db))
    assert 0 < first.prs < 40
    [same] = await sync_repos(repos=[REPO], days_back=20, db=str(db), ci_recheck_days=0)
    assert same.state == "unchanged"
    [deeper] = await sync_repos(repos=[REPO], days_back=None, db=str(db), ci_recheck_days=0)
    assert deeper.state == "synced" and deeper.prs == 40
    truth = emulator.truth(REPO)
    assert truth is not None and differences(db, truth) == {}
    assert status(db, "--repo", REPO)[0]["history_since"] == "all"
    [after] = await sync_repos(repos=[REPO], days_back=20, db=str(db), ci_recheck_days=0)
    assert after.state == "unchanged"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency_per_token": 0}, "concurrency_per_token must be at least 1"),
        ({"days_back": -5}, "days_back must be at least 1"),
    ],
)
async def test_bad_options_fail_before_any_request(
    emulator: Emulator, tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        await sync_repos(repos=[REPO], db=str(tmp_path / "w.duckdb"), **options)
    assert emulator.stats()["counters"].get("graphql_requests", 0) == 0
