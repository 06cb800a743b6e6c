"""A repository's sync session, as pure functions over its state (`ghsync.state.SyncState`, a
`sync_state` row): each returns the state that follows, nothing is changed in place.

A session is one complete pass over a repository's changed PRs (`ghsync.window`). It is opened
(a window and a fresh id, saved before the first page), or resumed when a crashed or failed run
left one open; each loaded page advances it (the cursor, the page size that worked); the CI of
each page's head commits is settled (fetched: those not settled yet stay pending) or deferred
(the tokens are low: all stay pending); the run's last step re-polls the CI that is due; a
session that went through every page is closed (the watermark moves to the window's end).
The flow orchestrates these steps; no clock, no I/O here: `now` is passed in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ghsync.ci import PendingCheck, replace_pending, unsettled
from ghsync.config import SyncOptions
from ghsync.github.tokens import TokenState, TokenStatus
from ghsync.nodes import CommitChecks
from ghsync.state import RepoStatus, SyncState
from ghsync.window import plan_window, synced_depth


def new_session_id() -> str:
    return uuid.uuid4().hex


def start_session(
    state: SyncState,
    newest_update: datetime | None,
    options: SyncOptions,
    now: datetime,
    new_id: Callable[[], str] = new_session_id,
) -> SyncState | None:
    """The session to work on: the one left open (resumed), else a new one (opened); None
    when the repository has nothing new."""
    return resume_session(state, options) or open_session(
        state, newest_update, options, now, new_id
    )


def resume_session(state: SyncState, options: SyncOptions) -> SyncState | None:
    """The state of a session a crashed or failed run left open, to go on with; a `full` run
    does not resume an incremental one."""
    if state.session_id is None:
        return None
    if options.full and state.window_since is not None:
        return None
    return replace(state, status=RepoStatus.RUNNING, error=None)


def open_session(
    state: SyncState,
    newest_update: datetime | None,
    options: SyncOptions,
    now: datetime,
    new_id: Callable[[], str] = new_session_id,
) -> SyncState | None:
    """The state with a new session opened (a window and a fresh id), or None when the
    repository has nothing new (`newest_update`: its newest PR update, from the metadata)."""
    window = plan_window(
        watermark=state.watermark,
        newest_update=newest_update,
        days_back=options.days_back,
        full=options.full,
        now=now,
        depth_since=state.depth_since,
    )
    if window is None:
        return None
    return replace(
        state,
        status=RepoStatus.RUNNING,
        window_since=window.since,
        window_until=window.until,
        session_id=new_id(),
        cursor=None,
        error=None,
    )


def first_page_size(state: SyncState, options: SyncOptions) -> int:
    """The page size to start with: the run's, or smaller if that is what last worked."""
    return min(options.page_size, state.page_size or options.page_size)


def advance_session(state: SyncState, *, cursor: str | None, page_size: int) -> SyncState:
    """The state once a page is loaded: the next page's cursor (None after the last one) and
    the page size that worked."""
    return replace(state, cursor=cursor, page_size=page_size)


def settle_ci(
    state: SyncState,
    numbers: Iterable[int],
    heads: Iterable[PendingCheck],
    commits: Mapping[str, CommitChecks],
) -> SyncState:
    """The state once the CI of the PRs `numbers` was fetched (`commits`, by commit node id):
    of their `heads`, those whose CI is not settled yet stay pending."""
    pending = replace_pending(state.pending_check_runs, numbers, unsettled(heads, commits))
    return replace(state, pending_check_runs=pending)


def defer_ci(state: SyncState, numbers: Iterable[int], heads: Iterable[PendingCheck]) -> SyncState:
    """The state when the CI of the PRs `numbers` was not fetched (the tokens are low): all
    their `heads` are pending, for the next run."""
    return replace(
        state, pending_check_runs=replace_pending(state.pending_check_runs, numbers, heads)
    )


def ci_recheck_since(options: SyncOptions, now: datetime) -> datetime | None:
    """Open PRs updated since then have their CI re-polled (re-runs of finished checks do not
    move a PR's updatedAt); None: only CI not settled when fetched."""
    if options.ci_recheck_days <= 0:
        return None
    return now - timedelta(days=options.ci_recheck_days)


def ci_due(
    state: SyncState, fetched: Collection[int], recent: Iterable[PendingCheck] = ()
) -> list[PendingCheck]:
    """The head commits whose CI to fetch again: the pending ones (deferred or not settled)
    and the `recent` open PRs' heads, but for the PRs whose CI came with a page of this run
    (`fetched`); one per PR, the pending one first."""
    due = {p.number: p for p in state.pending_check_runs if p.number not in fetched}
    for head in recent:
        if head.number not in fetched:
            due.setdefault(head.number, head)
    return list(due.values())


def close_session(
    state: SyncState, options: SyncOptions, *, start: int, now: datetime
) -> SyncState:
    """The state of a session that went through every page (`state.page_size`: the size that
    worked last, `start`: the size it started with): the watermark moves to the window's end.
    The page size that worked is kept for the next session; one that never had to shrink
    grows back by a quarter, up to the run's (a repository whose pages time out at the run's
    size pays one timeout every few runs instead of one every run)."""
    working = state.page_size or start
    grown = min(options.page_size, start + max(1, start // 4))
    window = state.window
    return replace(
        state,
        status=RepoStatus.SYNCED,
        depth_since=synced_depth(state.depth_since, state.watermark, window),
        watermark=window.until or state.watermark,
        last_synced_at=now,
        cursor=None,
        window_since=None,
        window_until=None,
        session_id=None,
        page_size=working if working < start else grown,
        error=None,
    )


def can_afford_checks(
    statuses: Sequence[TokenStatus], reserve: int, owner: str | None = None
) -> bool:
    """False when every usable token's account is below `reserve` points: check runs are
    deferred, not the PRs. A token dropped after a 401 counts for nothing; so does an app
    installation on another account than `owner` (it cannot read the repository)."""
    valid = [s for s in statuses if s.state is not TokenState.INVALID and s.reaches(owner)]
    return any(s.remaining is None or s.remaining >= reserve for s in valid)
