"""The Prefect tasks of a sync. Each is a thin call into the library.

GitHub fetches of a page are checkpoints: their results persist, keyed by (task, repo, cursor,
window, page size, query versions), so a run that crashed and is run again replays the pages it
already fetched from the cache and asks GitHub only for the rest. Keys hold no token. The other
tasks have no cache policy, so Prefect does not hash their inputs (whole pages of PRs) for a key
nobody uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.utilities.annotations import quote

from flows.runtime import current
from ghsync import (
    Node,
    PageCounts,
    PrPage,
    RepoMeta,
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

CHECKPOINT_TTL = timedelta(days=1)
"""How long fetched pages stay reusable by a later run (the flow's `checkpoint_ttl_hours`)."""
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


CHECKPOINT_FORMAT = "2"
"""Part of every checkpoint key: changed when a checkpoint task's result type changes, so a run
never reads a result an older version wrote."""


@dataclass(frozen=True)
class Whole(Generic[T]):
    """A task result that Prefect sees as one object. The flow run remembers every object a
    task returned, and each item of a returned list or dict, until it ends (to link results to
    their task runs): three entries per PR synced, a memory cost that grew with the repository.
    Wrapped, a page's result is one entry."""

    value: T


def page_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Checkpoint key of a page's fetch: what was asked, never who asked (no token)."""
    name = context.task.name
    parts = [
        CHECKPOINT_FORMAT,
        name,
        operation_version(OPERATIONS[name]),
        parameters["repo"],
        parameters["cursor"] or "first",
        parameters["window"],
        str(parameters["page_size"]),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def checkpoint(name: str, run_name: str) -> Callable[[Callable[..., Any]], Any]:
    """A task whose result is persisted and reused by later runs with the same page key."""
    return task(
        name=name,
        task_run_name=run_name,
        cache_key_fn=page_key,
        persist_result=True,
        cache_result_in_memory=False,  # the flow run would keep every page fetched until its end
        cache_expiration=CHECKPOINT_TTL,
    )


@task(name="list-org-repos", task_run_name="list-repos {org}", cache_policy=NO_CACHE)
async def list_org_repos_task(org: str) -> list[str]:
    """An organization's non-archived repositories."""
    return await list_org_repos(current().client, org)


@task(name="check-repos", task_run_name="check-repos ({count} repositories)", cache_policy=NO_CACHE)
async def check_repos_task(repos: list[str], count: int) -> dict[str, RepoMeta | None]:
    """The batched metadata check: 1 point per 50 repositories."""
    return await check_repos(current().client, repos)


@checkpoint("fetch-pr-page", "fetch-prs {repo} #{number}")
async def fetch_pr_page_task(
    repo: str, cursor: str | None, window: str, page_size: int, number: int
) -> PrPage:
    """One page of PRs, newest update first."""
    return await fetch_pr_page(current().client, repo, cursor, page_size)


@checkpoint("complete-nested", "complete-nested {repo} #{number}")
async def complete_nested_task(
    repo: str, cursor: str | None, window: str, page_size: int, number: int, prs: list[Node]
) -> Whole[list[Node]]:
    """The page's PRs with every nested list complete."""
    await complete_nested(current().client, prs)
    return Whole(prs)


@checkpoint("fetch-check-runs", "fetch-checks {repo} #{number}")
async def fetch_check_runs_task(
    repo: str,
    cursor: str | None,
    window: str,
    page_size: int,
    number: int,
    commit_ids: list[str],
) -> Whole[dict[str, Node]]:
    """Every check run and status of the page's head commits."""
    return Whole(await fetch_check_runs(current().client, commit_ids))


@task(
    name="fetch-pending-checks", task_run_name="fetch-pending-checks {repo}", cache_policy=NO_CACHE
)
async def fetch_pending_checks_task(repo: str, commit_ids: list[str]) -> dict[str, Node]:
    """Check runs deferred by an earlier run (its tokens were nearly spent)."""
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


@task(name="load-page", task_run_name="load {repo} #{number}", cache_policy=NO_CACHE)
async def load_page_task(
    repo: str,
    number: int,
    prs: list[Node],
    commits: Mapping[str, Node] | None,
    state: SyncState,
) -> PageCounts:
    """Map the page to rows and load it, with the sync state, in one transaction (shared with
    the pages other repositories queued meanwhile); returns the rows loaded per kind."""
    frames, counts = page_frames(repo, prs, commits)  # type: ignore[arg-type]
    await current().warehouse.load((frames, state))
    return counts


@task(name="save-repositories", task_run_name="save-repositories ({count})", cache_policy=NO_CACHE)
async def save_repositories_task(metas: list[RepoMeta], count: int) -> None:
    """The `repositories` rows of the checked repositories."""
    nodes = [
        {
            "id": m.repo_id,
            "nameWithOwner": m.repo,
            "isArchived": m.is_archived,
            "pushedAt": m.pushed_at,
        }
        for m in metas
    ]
    frame = map_repositories(nodes, datetime.now(UTC))  # type: ignore[arg-type]
    await in_warehouse(lambda warehouse: warehouse.upsert_repositories(frame))


@task(name="load-pending-checks", task_run_name="load-pending-checks {repo}", cache_policy=NO_CACHE)
async def load_pending_checks_task(
    repo: str, heads: dict[str, int], commits: Mapping[str, Node], state: SyncState
) -> int:
    """Load check runs deferred by an earlier run (commit id -> PR number), and the state."""
    frames = check_run_frames(repo, heads, commits)  # type: ignore[arg-type]
    await in_warehouse(lambda warehouse: warehouse.replace_check_runs(frames, state))
    return frames.check_runs.height


@dataclass(frozen=True)
class Checkpoints:
    """The checkpoint tasks of one run, with that run's cache expiration."""

    fetch_pr_page: Any
    complete_nested: Any
    fetch_check_runs: Any

    @classmethod
    def expiring_after(cls, ttl: timedelta) -> Checkpoints:
        return cls(
            *(
                t.with_options(cache_expiration=ttl)
                for t in (fetch_pr_page_task, complete_nested_task, fetch_check_runs_task)
            )
        )
