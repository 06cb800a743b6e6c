"""The sync flow as the `on-github-event` deployment runs it, against the emulator, a real
Prefect server and DuckDB files: `known_only` leaves never-synced repositories alone, and
`events_since` asks again the CI of the commits that the CI events stored in Prefect name
(GitHub moves no PR's updatedAt for CI, and a merged PR's CI is outside the open PRs'
re-poll: only the event tells)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from flows.sync import sync_repos
from flows.webhook import CLOCK_SLACK, ci_heads_since, post_event
from ghsync import Change, Kind
from ghsync.emulator import Emulator, EmulatorConfig
from tests.conftest import emulated
from tests.integration.truth import ci_running, differences

TOKENS = ("ghp_" + "w" * 36,)
REPO, OTHER = "acme/repo-1", "acme/repo-2"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    with emulated(monkeypatch, EmulatorConfig(seed=21, repos=2, prs=25, tokens=TOKENS)) as e:
        yield e


def ci_change(repo: str, sha: str, kind: Kind = Kind.CI) -> Change:
    return Change(str(uuid.uuid4()), repo, kind, "check_run", "completed", (), sha)


async def emit(*changes: Change) -> None:
    async with get_client() as client:
        for change in changes:
            await post_event(client, change)


async def stored(repo: str, since: datetime, sha: str, timeout: float = 60.0) -> None:
    """Wait until Prefect has stored an event naming `sha` (its persister writes in batches)."""
    deadline = time.monotonic() + timeout
    while sha not in (await ci_heads_since([repo], since))[repo]:
        assert time.monotonic() < deadline, f"no event of {sha} stored after {timeout} s"
        await asyncio.sleep(0.2)


async def merged_pr_ci_rerun(emulator: Emulator, db: Path) -> tuple[str, dict[str, Any]]:
    """Sync REPO into `db`, then re-run and finish the CI of a merged PR whose CI had settled
    (nothing a sync re-polls by itself); that PR's head commit and GitHub's truth after."""
    await sync_repos(repos=[REPO], db=str(db), days_back=None, ci_recheck_days=0)
    truth = emulator.truth(REPO)
    assert truth is not None
    pr = next(
        pr
        for pr in truth["pullRequests"]
        if pr["state"] == "MERGED" and pr["checkRuns"] and not ci_running(pr)
    )
    emulator.activity("rerun_checks", REPO, pr["number"])
    emulator.activity("finish_checks", REPO, pr["number"])
    after = emulator.truth(REPO)
    assert after is not None
    return str(pr["headRefOid"]), after


async def test_known_only_syncs_only_repositories_synced_before(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = str(tmp_path / "w.duckdb")
    assert await sync_repos(repos=[REPO, OTHER], db=db, known_only=True) == []
    assert "op:RepoMetadata" not in emulator.stats()["counters"]  # GitHub was not asked
    await sync_repos(repos=[REPO], db=db, days_back=None)
    outcomes = await sync_repos(repos=[REPO, OTHER], db=db, known_only=True)
    assert [outcome.repo for outcome in outcomes] == [REPO]


async def test_ci_events_since_the_trigger_name_the_commits_whose_ci_is_asked_again(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    sha, truth = await merged_pr_ci_rerun(emulator, db)

    # Without the event nothing tells the sync: the re-run stays missing.
    await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert "check_runs" in differences(db, truth)

    # A CI event stored before the trigger's (an earlier run's) is not read.
    await emit(ci_change(REPO, "0" * 40))
    emitted = datetime.now(UTC)
    await stored(REPO, emitted - timedelta(seconds=30), "0" * 40)
    since = emitted + CLOCK_SLACK + timedelta(milliseconds=1)
    assert datetime.now(UTC) >= since - CLOCK_SLACK  # the next events occur after `since`
    await emit(ci_change(OTHER, "1" * 40), ci_change(REPO, sha), ci_change(REPO, sha))
    await stored(OTHER, since, "1" * 40)
    await stored(REPO, since, sha)
    assert await ci_heads_since([REPO, OTHER], since) == {REPO: [sha], OTHER: ["1" * 40]}
    outcomes = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0, events_since=since)
    assert [o.state for o in outcomes] == ["unchanged"]
    assert outcomes[0].ci_changed == 1  # the merged PR's check runs
    assert differences(db, truth) == {}


async def test_commits_named_while_the_tokens_are_low_stay_due_for_the_next_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    sha, truth = await merged_pr_ci_rerun(emulator, db)
    since = datetime.now(UTC)
    await emit(ci_change(REPO, sha))
    await stored(REPO, since, sha)

    low = await sync_repos(
        repos=[REPO], db=str(db), ci_recheck_days=0, events_since=since, check_run_reserve=5000
    )
    assert low[0].ci_changed == 0 and "check_runs" in differences(db, truth)
    # A later run, told of no event, asks that commit's CI: it was kept due.
    later = await sync_repos(repos=[REPO], db=str(db), ci_recheck_days=0)
    assert later[0].ci_changed == 1
    assert differences(db, truth) == {}
