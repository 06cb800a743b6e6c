"""Where one repository's sync stands: a row of `sync_state` (the warehouse stores it, the
session's rules in `ghsync.session` move it on) and how a repository's last run ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ghsync.ci import PendingCheck
from ghsync.window import SyncWindow


class RepoStatus(StrEnum):
    """`sync_state.status`: how a repository's last run ended, or that one works on it."""

    RUNNING = "running"
    SYNCED = "synced"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """The run was stopped (Ctrl-C, SIGTERM) or killed: its session resumes on the next run."""
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class SyncState:
    """Where one repository's sync stands (a row of `sync_state`)."""

    repo: str
    watermark: datetime | None = None
    last_synced_at: datetime | None = None
    status: str = RepoStatus.RUNNING
    cursor: str | None = None
    pending_check_runs: tuple[PendingCheck, ...] = ()
    """Head commits whose CI the next run fetches (deferred, or not settled when fetched)."""
    error: str | None = None
    window_since: datetime | None = None
    window_until: datetime | None = None
    """The window of an unfinished session (both None when none is open)."""
    session_id: str | None = None
    """The open session's id (None when none is open): part of its checkpoint keys."""
    page_size: int | None = None
    """The PR page size that last worked (None: the run's own)."""
    depth_since: datetime | None = None
    """How far back the synced history reaches (None: all of it, or never synced)."""
    outcome_at: datetime | None = None
    """When the last run ended for this repository (its outcome is `status`)."""

    @property
    def window(self) -> SyncWindow:
        """The open session's window."""
        return SyncWindow(self.window_since, self.window_until)
