"""A parent run's fan-out as pure functions (ghsync/fanout.py): which repositories need a child
run, the batches they run in, the outcome a child recorded, the plan's checks; and the
metadata handed to a child (RepoMeta as a JSON-able dict and back)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ghsync.ci import PendingCheck
from ghsync.config import SyncOptions
from ghsync.errors import ConfigError
from ghsync.fanout import FanOut, batches, needs_run, recorded_outcome
from ghsync.github.fetch import RepoMeta
from ghsync.nodes import RepositoryNode
from ghsync.state import RepoStatus, SyncState

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
NEWEST = NOW - timedelta(hours=1)
SYNCED = SyncState("o/r", watermark=NEWEST, depth_since=NOW - timedelta(days=30))
"""A repository synced up to its newest PR, 30 days deep (the default depth)."""
OPTIONS = SyncOptions(ci_recheck_days=0)


def meta(repo: str, prs: int) -> RepoMeta:
    node = RepositoryNode(id=f"R_{repo}", nameWithOwner=repo, isArchived=False, pushedAt=None)
    return RepoMeta(repo, node, prs, "2026-05-01T11:00:00Z" if prs else None)


def repos(runs: list[list[RepoMeta]]) -> list[list[str]]:
    return [[m.repo for m in run] for run in runs]


def test_a_first_sync_needs_a_run() -> None:
    assert needs_run(SyncState("o/r", status="new"), NEWEST, OPTIONS, NOW)


def test_a_repository_with_nothing_newer_and_no_ci_due_needs_none() -> None:
    assert not needs_run(SYNCED, NEWEST, OPTIONS, NOW)


def test_a_newer_pr_needs_a_run() -> None:
    assert needs_run(SYNCED, NEWEST + timedelta(minutes=1), OPTIONS, NOW)


def test_a_session_left_open_needs_a_run_to_resume_it() -> None:
    crashed = SyncState("o/r", watermark=NEWEST, session_id="s1", cursor="c2")
    assert needs_run(crashed, NEWEST, OPTIONS, NOW)


def test_a_full_run_needs_a_run_whatever_the_watermark() -> None:
    assert needs_run(SYNCED, NEWEST, SyncOptions(full=True), NOW)


def test_pending_ci_needs_a_run_even_with_the_recheck_off() -> None:
    pending = SyncState("o/r", watermark=NEWEST, pending_check_runs=(PendingCheck(7, "C7"),))
    assert needs_run(pending, NEWEST, OPTIONS, NOW)


def test_recent_open_prs_need_a_run_for_their_ci_re_poll() -> None:
    assert needs_run(SYNCED, NEWEST, SyncOptions(), NOW, [PendingCheck(3, "C3")])


def test_a_big_repository_runs_alone_and_small_ones_share_runs_up_to_the_budget() -> None:
    metas = [meta("o/a", 40), meta("o/big", 900), meta("o/b", 300), meta("o/c", 200)]
    metas += [meta("o/d", 500), meta("o/e", 0), meta("o/f", 250)]
    runs = repos(batches(metas, 500))
    assert runs == [["o/big"], ["o/d"], ["o/b", "o/c"], ["o/f", "o/a", "o/e"]]


def test_every_repository_is_in_exactly_one_batch() -> None:
    metas = [meta(f"o/r{n}", n * 37 % 180) for n in range(40)]
    runs = batches(metas, 200)
    assert sorted(m.repo for run in runs for m in run) == sorted(m.repo for m in metas)
    assert all(sum(max(1, m.pr_count) for m in run) <= 200 for run in runs)


def test_empty_repositories_count_one_pr_so_a_batch_stays_bounded() -> None:
    runs = batches([meta(f"o/e{n}", 0) for n in range(5)], 2)
    assert [len(run) for run in runs] == [2, 2, 1]


def test_no_repositories_no_batches() -> None:
    assert batches([], 500) == []


@pytest.mark.parametrize("status", [RepoStatus.SYNCED, RepoStatus.UNCHANGED])
def test_a_finished_repository_is_read_as_its_status(status: RepoStatus) -> None:
    outcome = recorded_outcome("o/r", SyncState("o/r", status=status))
    assert outcome is not None and (outcome.state, outcome.error) == (status, None)


def test_a_failed_repository_is_read_with_its_error() -> None:
    outcome = recorded_outcome("o/r", SyncState("o/r", status="failed", error="boom"))
    assert outcome is not None and (outcome.state, outcome.error) == (RepoStatus.FAILED, "boom")


@pytest.mark.parametrize("state", [None, SyncState("o/r", status=RepoStatus.RUNNING)])
def test_a_repository_still_running_was_not_ended_by_its_run(state: SyncState | None) -> None:
    assert recorded_outcome("o/r", state) is None


def test_the_plan_is_checked_like_the_options() -> None:
    with pytest.raises(ConfigError) as raised:
        FanOut("sync-repo", prs_per_run=0, attempts=0)
    message = str(raised.value)
    assert "fan_out_prs must be at least 1" in message
    assert "fan_out_attempts must be at least 1" in message
    assert "FLOW/DEPLOYMENT" in message


def test_metadata_goes_to_a_child_as_json_and_comes_back_equal() -> None:
    given = meta("o/r", 12)
    assert RepoMeta.from_dict(json.loads(json.dumps(given.to_dict()))) == given
