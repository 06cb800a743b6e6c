"""What a flow run tells a listener in its own process as it goes: the repositories checked,
each page loaded, each repository's end. `ghsync sync` listens to show progress on the
terminal; a run without a listener (a deployment's) tells no one. No Prefect API is involved.

Listeners are called on the flow's event loop: they must return at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from ghsync.github.tokens import TokenStatus
from ghsync.outcome import RepoOutcome
from ghsync.scoped import scoped


@dataclass(frozen=True)
class Spent:
    """The run's GitHub spending so far, and each token's points left (masked)."""

    points: int
    requests: int
    tokens: Sequence[TokenStatus]


@dataclass(frozen=True)
class PageLoaded:
    """A repository's progress after one of its pages was loaded."""

    repo: str
    page: int
    prs: int
    """PRs loaded so far in this run."""
    expected: int
    """The PRs the repository has (the walk may stop earlier, at the window's start)."""
    points: int
    """Points spent on the repository so far."""


class SyncListener(Protocol):
    def checked(self, expected: Mapping[str, int | None], spent: Spent) -> None:
        """The repositories to sync and their PR counts (None: not found)."""

    def loaded(self, page: PageLoaded, spent: Spent) -> None:
        """A page of a repository was loaded."""

    def finished(self, outcome: RepoOutcome, spent: Spent) -> None:
        """A repository is done: synced, unchanged or failed."""


_LISTENER: ContextVar[SyncListener | None] = ContextVar("ghsync_listener", default=None)


def listening(listener: SyncListener) -> AbstractContextManager[None]:
    """Let `listener` hear the flow runs started inside the block (in this context)."""
    return scoped(_LISTENER, listener)


def listener() -> SyncListener | None:
    return _LISTENER.get()
