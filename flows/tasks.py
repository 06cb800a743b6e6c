"""The Prefect tasks of a sync. Each is a thin call into the library.

GitHub fetches of a page are checkpoints: their results persist, keyed by (task, sync session,
repo, cursor, window, page size, query versions), so a run that crashed and is run again (it
resumes the same session) replays the pages it already fetched from the cache and asks GitHub
only for the rest, while a later session (the next run, a `--full` repair) never reads them: it
asks GitHub. Keys hold no token. The other
tasks have no cache policy, so Prefect does not hash their inputs (whole pages of PRs) for a key
nobody uses.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, cast

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.settings import get_current_settings
from prefect.utilities.annotations import quote

from flows.runtime import current
from ghsync import (
    CommitChecks,
    PageCounts,
    PendingCheck,
    PrPage,
    PullRequestNode,
    RepoMeta,
    RepoStatus,
    SyncState,
    Warehouse,
    check_repos,
    check_run_frames,
    complete_nested,
    fetch_check_runs,
    fetch_pr_page,
    list_org_repos,
    map_repositories,
    operation_version,
    page_frames,
)

T = TypeVar("T")

OPERATIONS = {
    "fetch-pr-page": "PullRequestPage",
    "complete-nested": "PullRequestNested",
    "fetch-check-runs": "CheckRuns",
}


def bulk(value: T) -> T:
    """`value` as a task argument Prefect passes on without walking it (prefect's `quote`):
    looking for futures in every dict of a page's PRs, twice per task run, cost more CPU
    than the rest of a sync."""
    return cast(T, quote(value))


CHECKPOINT_FORMAT = "3"
"""Part of every checkpoint key: changed when a checkpoint task's result type changes, so a run
never reads a result an older version wrote."""


@dataclass(frozen=True)
class Whole(Generic[T]):
    """A task result that Prefect sees as one object. The flow run remembers every object a
    task returned, and each item of a returned list or dict, until it ends (to link results to
    their task runs): three entries per PR synced, a memory cost that grew with the repository.
    Wrapped, a page's result is one entry."""

    value: T


Checks = dict[str, CommitChecks]
"""Head commits' check runs and statuses, by commit node id."""


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
    ]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"{checkpoint_folder(page.session)}/{digest}"


@task(name="list-org-repos", task_run_name="list-repos {org}", cache_policy=NO_CACHE)
async def list_org_repos_task(org: str) -> list[str]:
    """An organization's non-archived repositories."""
    return await list_org_repos(current().client, org)


@task(name="check-repos", task_run_name="check-repos ({count} repositories)", cache_policy=NO_CACHE)
async def check_repos_task(repos: list[str], count: int) -> dict[str, RepoMeta | None]:
    """The batched metadata check: 1 point per 50 repositories."""
    return await check_repos(current().client, repos)


async def fetch_pr_page_fn(page: PageRef) -> PrPage:
    """One page of PRs, newest update first."""
    return await fetch_pr_page(current().client, page.repo, page.cursor, page.page_size)


async def complete_nested_fn(
    page: PageRef, prs: list[PullRequestNode]
) -> Whole[list[PullRequestNode]]:
    """The page's PRs with every nested list complete."""
    await complete_nested(current().client, prs)
    return Whole(prs)


async def fetch_check_runs_fn(
    page: PageRef, commit_ids: list[str]
) -> Whole[dict[str, CommitChecks]]:
    """Every check run and status of the page's head commits."""
    return Whole(await fetch_check_runs(current().client, commit_ids))


@task(name="fetch-ci", task_run_name="fetch-ci {repo}", cache_policy=NO_CACHE)
async def fetch_ci_task(repo: str, commit_ids: list[str]) -> Checks:
    """Check runs and statuses of head commits apart from their pages (deferred or not
    settled when fetched, or of recently updated open PRs)."""
    return await fetch_check_runs(current().client, commit_ids)


async def in_warehouse(work: Callable[[Warehouse], T]) -> T:
    """Run `work` on the warehouse, through the run's writer (off the event loop)."""
    return await current().warehouse.run(work)


@task(name="read-sync-state", task_run_name="read-state {repo}", cache_policy=NO_CACHE)
async def read_state_task(repo: str) -> SyncState | None:
    return await in_warehouse(lambda warehouse: warehouse.read_sync_state(repo))


@task(name="save-sync-state", task_run_name="save-state {repo}", cache_policy=NO_CACHE)
async def save_state_task(repo: str, state: SyncState) -> None:
    await in_warehouse(lambda warehouse: warehouse.write_sync_state(state))


async def record_outcome(repo: str, outcome: RepoStatus, error: str | None) -> None:
    """How this run ended for the repository (`ghsync status` shows it). Not a task: a task run
    per repository would cost an unchanged re-sync of many repositories a Prefect API round
    trip each, for a row the warehouse keeps anyway."""
    await in_warehouse(lambda warehouse: warehouse.record_outcome(repo, outcome, error))


@task(name="load-page", task_run_name="load {repo} #{number}", cache_policy=NO_CACHE)
async def load_page_task(
    repo: str,
    number: int,
    prs: list[PullRequestNode],
    commits: Mapping[str, CommitChecks] | None,
    state: SyncState,
) -> PageCounts:
    """Map the page to rows and load it, with the sync state, in one transaction (shared with
    the pages other repositories queued meanwhile); returns the rows loaded per kind."""
    frames, counts = page_frames(repo, prs, commits)
    await current().warehouse.load((frames, state))
    return counts


@task(name="save-repositories", task_run_name="save-repositories ({count})", cache_policy=NO_CACHE)
async def save_repositories_task(metas: list[RepoMeta], count: int) -> None:
    """The `repositories` rows of the checked repositories."""
    frame = map_repositories([m.node for m in metas], datetime.now(UTC))
    await in_warehouse(lambda warehouse: warehouse.upsert_repositories(frame))


@task(name="read-ci-heads", task_run_name="read-ci-heads {repo}", cache_policy=NO_CACHE)
async def read_open_heads_task(repo: str, updated_since: datetime) -> list[PendingCheck]:
    """Head commits of the open PRs updated since `updated_since` (re-runs of their checks)."""
    return await in_warehouse(lambda warehouse: warehouse.open_heads(repo, updated_since))


@task(name="load-ci", task_run_name="load-ci {repo}", cache_policy=NO_CACHE)
async def load_ci_task(
    repo: str, heads: list[PendingCheck], commits: Mapping[str, CommitChecks], state: SyncState
) -> tuple[int, int]:
    """Replace the check runs and statuses of the PRs of `heads`, and write the state; returns
    the check runs loaded and how many of the PRs' rows changed."""
    frames = check_run_frames(repo, heads, commits)
    changed = await in_warehouse(lambda warehouse: warehouse.replace_check_runs(frames, state))
    return frames.children["check_runs"].height, changed


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
class Checkpoints:
    """The page tasks of one run: checkpoints expiring after the run's TTL, or plain tasks."""

    fetch_pr_page: Task[[PageRef], Coroutine[Any, Any, PrPage]]
    complete_nested: Task[
        [PageRef, list[PullRequestNode]], Coroutine[Any, Any, Whole[list[PullRequestNode]]]
    ]
    fetch_check_runs: Task[
        [PageRef, list[str]], Coroutine[Any, Any, Whole[dict[str, CommitChecks]]]
    ]

    @classmethod
    def expiring_after(cls, ttl: timedelta | None) -> Checkpoints:
        """Checkpoints kept `ttl` long; None: no checkpoints at all."""
        return cls(
            page_task(fetch_pr_page_fn, "fetch-pr-page", ttl),
            page_task(complete_nested_fn, "complete-nested", ttl),
            page_task(fetch_check_runs_fn, "fetch-check-runs", ttl),
        )
