"""A repository's sync session as pure functions (ghsync/session.py): open, resume, advance,
settle and defer CI, the CI due, close, and whether the tokens can afford check runs."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from ghsync.ci import PendingCheck
from ghsync.config import SyncOptions
from ghsync.github.tokens import TokenState, TokenStatus
from ghsync.nodes import CommitChecks
from ghsync.session import (
    advance_session,
    can_afford_checks,
    ci_due,
    ci_recheck_since,
    close_session,
    defer_ci,
    first_page_size,
    open_session,
    resume_session,
    settle_ci,
    start_session,
)
from ghsync.state import RepoStatus, SyncState
from ghsync.window import SyncWindow

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
WATERMARK = NOW - timedelta(days=2)
NEWEST = NOW - timedelta(hours=1)


def fixed_id() -> str:
    return "s1"


def commit(run_status: str) -> CommitChecks:
    """A head commit's CI: one suite with one run of `run_status`."""
    suite = {"status": "COMPLETED", "app": None, "checkRuns": {"nodes": [{"status": run_status}]}}
    return {"id": "C", "oid": "abc", "checkSuites": {"nodes": [suite]}, "status": None}  # type: ignore[typeddict-item]


def status(remaining: int | None, state: TokenState = TokenState.READY) -> TokenStatus:
    return TokenStatus("ghp_…aaaa", None, 5000, remaining, None, state, None)


def test_a_first_sync_opens_a_session_days_back_deep() -> None:
    state = open_session(
        SyncState("o/r", status="new"), NEWEST, SyncOptions(days_back=10), NOW, fixed_id
    )
    assert state is not None
    assert (state.status, state.session_id, state.cursor) == (RepoStatus.RUNNING, "s1", None)
    assert state.window == SyncWindow(NOW - timedelta(days=10), NEWEST)


def test_nothing_newer_than_the_watermark_opens_nothing() -> None:
    state = SyncState("o/r", watermark=NEWEST, depth_since=NOW - timedelta(days=30))
    assert start_session(state, NEWEST, SyncOptions(), NOW, fixed_id) is None


def test_an_open_session_is_resumed_with_its_window_and_cursor() -> None:
    left = SyncState(
        "o/r", status="failed", error="boom", cursor="c2", session_id="old",
        window_since=WATERMARK, window_until=NEWEST,
    )  # fmt: skip
    state = start_session(left, NOW, SyncOptions(), NOW, fixed_id)
    assert state == SyncState(
        "o/r", status=RepoStatus.RUNNING, cursor="c2", session_id="old",
        window_since=WATERMARK, window_until=NEWEST,
    )  # fmt: skip


def test_a_full_run_does_not_resume_an_incremental_session() -> None:
    left = SyncState("o/r", session_id="old", window_since=WATERMARK, window_until=NEWEST)
    assert resume_session(left, SyncOptions(full=True)) is None
    state = start_session(left, NEWEST, SyncOptions(full=True), NOW, fixed_id)
    assert state is not None and state.session_id == "s1" and state.window_since is None
    full_left = SyncState("o/r", session_id="old", window_until=NEWEST)
    assert resume_session(full_left, SyncOptions(full=True)) is not None


def test_pages_advance_the_cursor_and_the_page_size() -> None:
    state = SyncState("o/r", page_size=20)
    assert first_page_size(state, SyncOptions(page_size=50)) == 20
    assert first_page_size(SyncState("o/r"), SyncOptions(page_size=50)) == 50
    assert first_page_size(state, SyncOptions(page_size=10)) == 10
    after = advance_session(state, cursor="c3", page_size=12)
    assert (after.cursor, after.page_size) == ("c3", 12)


def test_settled_ci_leaves_only_the_unsettled_heads_pending() -> None:
    heads = [PendingCheck(1, "A"), PendingCheck(2, "B")]
    state = SyncState("o/r", pending_check_runs=(PendingCheck(1, "old"), PendingCheck(9, "Z")))
    after = settle_ci(state, [1, 2], heads, {"A": commit("COMPLETED"), "B": commit("QUEUED")})
    assert set(after.pending_check_runs) == {PendingCheck(9, "Z"), PendingCheck(2, "B")}


def test_deferred_ci_leaves_every_head_pending() -> None:
    state = SyncState("o/r", pending_check_runs=(PendingCheck(1, "old"),))
    after = defer_ci(state, [1, 2, 3], [PendingCheck(1, "A"), PendingCheck(2, "B")])
    assert after.pending_check_runs == (PendingCheck(1, "A"), PendingCheck(2, "B"))


def test_the_ci_due_is_pending_and_recent_heads_not_fetched_by_a_page() -> None:
    state = SyncState("o/r", pending_check_runs=(PendingCheck(1, "A"), PendingCheck(2, "B")))
    recent = [PendingCheck(2, "B2"), PendingCheck(3, "C"), PendingCheck(4, "D")]
    assert ci_due(state, {1, 4}, recent) == [PendingCheck(2, "B"), PendingCheck(3, "C")]
    assert ci_due(state, set()) == list(state.pending_check_runs)


def test_recent_open_prs_are_rechecked_unless_told_not_to() -> None:
    assert ci_recheck_since(SyncOptions(ci_recheck_days=3), NOW) == NOW - timedelta(days=3)
    assert ci_recheck_since(SyncOptions(ci_recheck_days=0), NOW) is None


def test_closing_moves_the_watermark_and_the_depth() -> None:
    state = SyncState(
        "o/r", watermark=None, cursor=None, session_id="s1", page_size=50,
        window_since=NOW - timedelta(days=30), window_until=NEWEST,
    )  # fmt: skip
    done = close_session(state, SyncOptions(page_size=50), start=50, now=NOW)
    assert done == SyncState(
        "o/r", watermark=NEWEST, last_synced_at=NOW, status=RepoStatus.SYNCED, page_size=50,
        depth_since=NOW - timedelta(days=30),
    )  # fmt: skip


def closed_size(worked: int, start: int) -> int | None:
    """The page size a session keeps that started at `start` and ended at `worked`."""
    state = advance_session(SyncState("o/r", session_id="s1"), cursor=None, page_size=worked)
    return close_session(state, SyncOptions(page_size=50), start=start, now=NOW).page_size


def test_a_page_size_that_shrank_is_kept_one_that_held_grows_back() -> None:
    assert closed_size(25, start=40) == 25
    assert closed_size(40, start=40) == 50
    assert closed_size(20, start=20) == 25
    assert closed_size(2, start=2) == 3


def test_check_runs_are_affordable_while_one_usable_account_is_above_the_reserve() -> None:
    assert can_afford_checks([status(50), status(150)], 100)
    assert not can_afford_checks([status(50), status(99)], 100)
    assert can_afford_checks([status(None)], 100)  # not asked yet: unknown is not low
    assert not can_afford_checks([status(5000, TokenState.INVALID), status(10)], 100)
    assert not can_afford_checks([], 100)


def test_an_installation_on_another_account_affords_no_checks() -> None:
    other = dataclasses.replace(status(5000), target="bigcorp")
    assert can_afford_checks([status(50), other], 100)  # whatever a request is about
    assert not can_afford_checks([status(50), other], 100, owner="acme")
    assert can_afford_checks([status(50), other], 100, owner="BigCorp")
