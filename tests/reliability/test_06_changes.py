"""Scenario 6: PRs updated, merged, closed and created while the sync pages through them are
caught by the next run: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens

REPO = "acme/repo-1"


def change_after_pages(emulator: Emulator, pages: int, done: threading.Event) -> None:
    """Once `pages` PR pages were served: change PRs already fetched, PRs not fetched yet, and
    open a new one."""
    deadline = time.monotonic() + 120
    while emulator.stats()["counters"].get("op:PullRequestPage", 0) < pages:
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)
    truth = emulator.truth(REPO)
    assert truth is not None
    newest_first = sorted(truth["pullRequests"], key=lambda pr: pr["updatedAt"], reverse=True)
    fetched, unfetched = newest_first[:10], newest_first[-30:]
    open_unfetched = [pr["number"] for pr in unfetched if pr["state"] == "OPEN"]
    open_fetched = [pr["number"] for pr in fetched if pr["state"] == "OPEN"]
    emulator.activity("merge", REPO, open_unfetched[0])
    emulator.activity("close", REPO, open_unfetched[1])
    emulator.activity("add_review", REPO, unfetched[-1]["number"])
    emulator.activity("add_commit", REPO, open_fetched[0])
    emulator.activity("remove_label", REPO, next(pr["number"] for pr in fetched if pr["labels"]))
    emulator.activity("open", REPO)
    done.set()


@pytest.mark.scenario("6. PRs change during the walk")
async def test_changes_during_the_walk_are_caught_next_run(
    scenario: Scenario, tmp_path: Path
) -> None:
    emulator = scenario.emulator(
        EmulatorConfig(
            seed=107, repos=1, prs=60, tokens=fake_tokens("l"), faults=FaultConfig(latency_ms=50)
        )
    )
    db = tmp_path / "w.duckdb"
    changed = threading.Event()
    changer = threading.Thread(target=change_after_pages, args=(emulator, 2, changed))
    changer.start()
    try:
        [first] = await sync_repos(repos=[REPO], days_back=None, db=str(db), page_size=10)
    finally:
        changer.join()
    assert changed.is_set() and first.state == "synced"
    assert first.pages >= 6
    [second] = await sync_repos(repos=[REPO], db=str(db), page_size=10)
    assert second.state == "synced" and second.prs <= 15  # the changed PRs, not all 61
    assert_equals_truth(db, emulator, REPO)
