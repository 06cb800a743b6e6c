"""Which pull requests a sync of one repository fetches: its window, decided once per session.

A session is one complete pass over a repository's changed PRs. Its window is stored with the
sync state when it starts, so a run that crashed and is run again asks GitHub exactly the same
pages (the checkpoint cache keys contain the window) and ends with the same watermark:

- `since`: the oldest `updatedAt` to fetch, inclusive: the watermark (incremental), now minus
  `days_back` (first sync), or None (`full`, or a first sync without a depth);
- `until`: the newest PR `updatedAt` the metadata check saw when the session started. On success
  it becomes the watermark. PRs updated later are fetched by the next session, whose `since`
  is this `until`: none falls between two sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ghsync.nodes import PullRequestNode
from ghsync.timestamps import parse_time


@dataclass(frozen=True)
class SyncWindow:
    """The PRs one session fetches: updatedAt in [since, ...], pages newest first."""

    since: datetime | None
    until: datetime | None

    def key(self) -> str:
        """A stable text for checkpoint cache keys."""
        since = self.since.isoformat() if self.since else "all"
        until = self.until.isoformat() if self.until else "none"
        return f"{since}..{until}"

    def cut(self, nodes: Sequence[PullRequestNode]) -> tuple[list[PullRequestNode], bool]:
        """The nodes of a page inside the window, and whether the walk stops after this page
        (a node older than `since`: every later page is older still)."""
        if self.since is None:
            return list(nodes), False
        since = self.since
        inside = [node for node in nodes if parse_time(node["updatedAt"]) >= since]
        return inside, len(inside) < len(nodes)


def plan_window(
    *,
    watermark: datetime | None,
    newest_update: datetime | None,
    days_back: int | None,
    full: bool,
    now: datetime,
    depth_since: datetime | None = None,
) -> SyncWindow | None:
    """The window of a new session, or None when the repository has nothing new.

    Unchanged means: it has no PR, or its newest PR update is not newer than the watermark and
    `days_back` reaches no further back than the history synced so far (`depth_since`, None:
    all of it). A deeper `days_back` opens a session from that depth (the PRs updated since the
    depth already synced are asked again: GitHub pages PRs from the newest update only).
    `full` always syncs everything (a repair).
    """
    if full:
        return SyncWindow(None, newest_update)
    wanted = None if days_back is None else now - timedelta(days=days_back)
    if watermark is not None and depth_since is not None and _deeper(wanted, depth_since):
        return SyncWindow(wanted, newest_update or watermark)
    if newest_update is None or (watermark is not None and newest_update <= watermark):
        return None
    if watermark is not None:
        return SyncWindow(watermark, newest_update)
    return SyncWindow(wanted, newest_update)


def _deeper(wanted: datetime | None, depth_since: datetime) -> bool:
    return wanted is None or wanted < depth_since


def synced_depth(
    depth_since: datetime | None, watermark: datetime | None, window: SyncWindow
) -> datetime | None:
    """How far back the history reaches once the session of `window` has finished (None: all
    of it): a first session reaches its `since`, a later one extends the depth, never shortens
    it."""
    if watermark is None:
        return window.since
    if window.since is None or depth_since is None:
        return None
    return min(depth_since, window.since)
