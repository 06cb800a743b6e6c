"""The page tasks of a sync, checkpoints: their results persist, keyed by (task, sync session,
repo, cursor, window, page size, query versions), so a run that crashed and is run again (it
resumes the same session) replays the pages it already fetched from the cache and asks GitHub
only for the rest, while a later session (the next run, a `--full` repair) never reads them: it
asks GitHub. Keys hold no token. With `checkpoints` off they are plain tasks.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.settings import get_current_settings

from flows.runtime import current
from ghsync import (
    CheckRunBatches,
    PrPage,
    PullRequestNode,
    SyncState,
    complete_nested,
    fetch_pr_page,
    operation_version,
)

T = TypeVar("T")

OPERATIONS = {
    "fetch-pr-page": "PullRequestPage",
    "complete-nested": "PullRequestNested",
}


CHECKPOINT_FORMAT = "4"
"""Part of every checkpoint key: changed when a checkpoint task's result type changes, so a run
never reads a result an older version wrote."""


@dataclass(frozen=True)
class Whole(Generic[T]):
    """A task result that Prefect sees as one object. The flow run remembers every object a
    task returned, and each item of a returned list or dict, until it ends (to link results to
    their task runs): three entries per PR synced, a memory cost that grew with the repository.
    Wrapped, a page's result is one entry."""

    value: T


@dataclass(frozen=True)
class PageRef:
    """The page a checkpoint task works on; all of it but `number` makes the checkpoint key."""

    repo: str
    session: str
    """The sync session's id: only the same unfinished session reads its checkpoints."""
    cursor: str | None
    window: str
    page_size: int
    number: int
    """The page's place in the session (names the task runs)."""
    raised: tuple[str, ...] = ()
    """The nested connections this page asks 100 long (`ghsync.next_sizes`)."""

    @classmethod
    def first(cls, state: SyncState, page_size: int) -> PageRef:
        """The first page of the open session of `state`, at its cursor (a resumed session
        goes on where it stopped)."""
        assert state.session_id is not None, "no open session"
        return cls(state.repo, state.session_id, state.cursor, state.window.key(), page_size, 1)

    def next(self, cursor: str | None, page_size: int, raised: tuple[str, ...]) -> PageRef:
        """The page after this one, at `cursor`, `page_size` PRs long, asking the nested
        connections `raised` 100 long."""
        return PageRef(
            self.repo, self.session, cursor, self.window, page_size, self.number + 1, raised
        )


def checkpoint_folder(session: str) -> str:
    """The folder of a session's checkpoints in the result storage (removed when it ends)."""
    return f"ghsync-session-{session}"


def forget_checkpoints(session: str) -> None:
    """Remove a finished session's checkpoints from the local result storage: no later session
    reads them, and they hold PR bodies, commit messages and e-mails. (A remote result storage
    block keeps them until their expiry.)"""
    storage = get_current_settings().results.local_storage_path
    shutil.rmtree(Path(storage) / checkpoint_folder(session), ignore_errors=True)


def page_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Checkpoint key of a page's fetch: what was asked, never who asked (no token). Prefect
    uses it as the result's path in its storage: the session's folder, then a hash."""
    name = context.task.name
    page: PageRef = parameters["page"]
    parts = [
        CHECKPOINT_FORMAT,
        name,
        operation_version(OPERATIONS[name]),
        page.session,
        page.repo,
        page.cursor or "first",
        page.window,
        str(page.page_size),
        ",".join(page.raised),
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"{checkpoint_folder(page.session)}/{digest}"


async def fetch_pr_page_fn(page: PageRef) -> PrPage:
    """One page of PRs, newest update first."""
    client = current().client
    return await fetch_pr_page(client, page.repo, page.cursor, page.page_size, page.raised)


async def complete_nested_fn(
    page: PageRef, prs: list[PullRequestNode], checks: CheckRunBatches
) -> Whole[list[PullRequestNode]]:
    """The page's PRs with every nested list complete; requests with room carry CI items of
    `checks` (the repository's: replayed from the checkpoint, they are asked again later)."""
    await complete_nested(current().client, prs, checks)
    return Whole(prs)


P = ParamSpec("P")
R = TypeVar("R")


def page_task(
    fn: Callable[P, Coroutine[Any, Any, R]], name: str, ttl: timedelta | None
) -> Task[P, Coroutine[Any, Any, R]]:
    """`fn` as the task `name` of a page; with a `ttl`, a checkpoint: its result is persisted
    and read again, until it expires, by a run of the same session asking the same page key.
    Without one (`checkpoints: false`), nothing of the page is written under PREFECT_HOME."""
    run_name = f"{name} {{page.repo}} #{{page.number}}"
    if ttl is None:
        return task(name=name, task_run_name=run_name, cache_policy=NO_CACHE)(fn)
    return task(
        name=name,
        task_run_name=run_name,
        cache_key_fn=page_key,
        persist_result=True,
        cache_result_in_memory=False,  # the flow run would keep every page fetched until its end
        cache_expiration=ttl,
    )(fn)


@dataclass(frozen=True)
class PageTasks:
    """The page tasks of one run: checkpoints expiring after the run's TTL, or plain tasks."""

    fetch_pr_page: Task[[PageRef], Coroutine[Any, Any, PrPage]]
    complete_nested: Task[
        [PageRef, list[PullRequestNode], CheckRunBatches],
        Coroutine[Any, Any, Whole[list[PullRequestNode]]],
    ]

    @classmethod
    def expiring_after(cls, ttl: timedelta | None) -> PageTasks:
        """PageTasks kept `ttl` long; None: no checkpoints at all."""
        return cls(
            page_task(fetch_pr_page_fn, "fetch-pr-page", ttl),
            page_task(complete_nested_fn, "complete-nested", ttl),
        )
