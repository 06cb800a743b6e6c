"""The Prefect tasks of a sync but for its page checkpoints (`flows.checkpoints`). Each is a thin
call into the library. They have no cache policy, so Prefect does not hash their inputs (whole
pages of PRs) for a key nobody uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar, cast

from prefect import get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.checkpoints import Whole
from flows.runtime import current
from ghsync import (
    CheckRunBatches,
    CommitChecks,
    GhsyncError,
    PageCounts,
    PendingCheck,
    PullRequestNode,
    RepoMeta,
    RepoStatus,
    SyncState,
    Warehouse,
    check_repos,
    check_run_frames,
    ci_recheck_since,
    headline_markdown,
    list_org_repos,
    load_report,
    map_repositories,
    needs_run,
    page_frames,
    parse_time,
    render_html,
)

T = TypeVar("T")


def bulk(value: T) -> T:
    """`value` as a task argument Prefect passes on without walking it (prefect's `quote`):
    looking for futures in every dict of a page's PRs, twice per task run, cost more CPU
    than the rest of a sync."""
    return cast(T, quote(value))


@task(name="list-org-repos", task_run_name="list-repos {org}", cache_policy=NO_CACHE)
async def list_org_repos_task(org: str) -> list[str]:
    """An organization's non-archived repositories."""
    return await list_org_repos(current().client, org)


@task(name="check-repos", task_run_name="check-repos ({count} repositories)", cache_policy=NO_CACHE)
async def check_repos_task(repos: list[str], count: int) -> dict[str, RepoMeta | None]:
    """The batched metadata check: 1 point per 50 repositories."""
    return await check_repos(current().client, repos)


@task(name="fetch-ci", task_run_name="fetch-ci {repo}", cache_policy=NO_CACHE)
async def fetch_ci_task(
    repo: str, checks: CheckRunBatches, everything: bool
) -> Whole[dict[str, CommitChecks | None]]:
    """Check runs and statuses of the repository's queued head commits, in full requests
    (`everything`: to the last one); the commits complete by now (None: GitHub no longer has
    it). Not a checkpoint: a resumed run asks again the CI its crashed run fetched but did
    not load (at most a request's worth beyond the last loaded page). Wrapped (`Whole`): the
    flow run would keep every commit returned until it ends."""
    return Whole(await checks.fetch(current().client, everything=everything))


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
    repo: str, number: int, prs: list[PullRequestNode], state: SyncState
) -> PageCounts:
    """Map the page to rows and load it, with the sync state, in one transaction (shared with
    the pages other repositories queued meanwhile); returns the rows loaded per kind. Its CI
    comes later (`load_ci_task`): the stored check runs are left alone."""
    frames, counts = page_frames(repo, prs)
    await current().warehouse.load((frames, state))
    return counts


@task(name="save-repositories", task_run_name="save-repositories ({count})", cache_policy=NO_CACHE)
async def save_repositories_task(metas: list[RepoMeta], count: int) -> None:
    """The `repositories` rows of the checked repositories."""
    frame = map_repositories([m.node for m in metas], datetime.now(UTC))
    await in_warehouse(lambda warehouse: warehouse.upsert_repositories(frame))


@task(name="read-ci-heads", task_run_name="read-ci-heads {repo}", cache_policy=NO_CACHE)
async def read_ci_heads_task(
    repo: str, updated_since: datetime | None, shas: list[str]
) -> list[PendingCheck]:
    """Head commits of the open PRs updated since `updated_since` (re-runs of their checks),
    then those of the PRs whose head is one of `shas` (named by CI webhooks)."""

    def heads(warehouse: Warehouse) -> list[PendingCheck]:
        recent = warehouse.open_heads(repo, updated_since) if updated_since else []
        return recent + (warehouse.commit_heads(repo, shas) if shas else [])

    return await in_warehouse(heads)


@task(name="load-ci", task_run_name="load-ci {repo}", cache_policy=NO_CACHE)
async def load_ci_task(
    repo: str, heads: list[PendingCheck], commits: Mapping[str, CommitChecks], state: SyncState
) -> tuple[int, int]:
    """Replace the check runs and statuses of the PRs of `heads`, and write the state; returns
    the check runs loaded and how many of the PRs' rows changed."""
    frames = check_run_frames(repo, heads, commits)
    changed = await in_warehouse(lambda warehouse: warehouse.replace_check_runs(frames, state))
    return frames.children["check_runs"].height, changed


@task(name="report", cache_policy=NO_CACHE)
async def report_task(repos: list[str], out: Path | None) -> None:
    """The run's repositories' headline figures as the `ghsync-headlines` artifact, and the
    HTML report (`ghsync report`'s page) written to `out` when given (GHSYNC_REPORT). A report
    that cannot be made is a warning: the sync it follows did its work."""
    log = get_run_logger()
    now = datetime.now(UTC)
    try:
        report = await in_warehouse(lambda warehouse: load_report(warehouse, repos=repos, now=now))
        await acreate_markdown_artifact(
            markdown=headline_markdown(report),
            key="ghsync-headlines",
            description="The week's headline figures of the synced repositories",
        )
        if out is not None:
            page = await asyncio.to_thread(render_html, report)
            out.write_text(page, encoding="utf-8")
            log.info("report of %d repositories written to %s", len(report.repos), out)
    except (GhsyncError, OSError) as error:
        log.warning("no report: %s", error)


@task(name="compact-warehouse", cache_policy=NO_CACHE)
async def compact_task() -> tuple[int, int] | None:
    """The warehouse's upkeep after the run's loads (`Warehouse.compact`): for a DuckLake,
    the Parquet files its snapshot reads, before and after."""
    files = await in_warehouse(lambda warehouse: warehouse.compact())
    if files is not None:
        get_run_logger().info("DuckLake compacted: %d -> %d Parquet files", *files)
    return files


@task(
    name="plan-fan-out", task_run_name="plan-fan-out ({count} repositories)", cache_policy=NO_CACHE
)
async def needing_runs_task(metas: list[RepoMeta], count: int) -> list[str]:
    """The repositories of `metas` that a child run has work for (`ghsync.needs_run`), from
    their stored sync states, in one turn of the writer."""
    options, now = current().options, datetime.now(UTC)
    since = ci_recheck_since(options, now)

    def needing(warehouse: Warehouse) -> list[str]:
        return [
            meta.repo
            for meta in metas
            if needs_run(
                warehouse.read_sync_state(meta.repo) or SyncState(meta.repo, status="new"),
                parse_time(meta.newest_update),
                options,
                now,
                warehouse.open_heads(meta.repo, since) if since else (),
            )
        ]

    return await in_warehouse(needing)


async def read_states(repos: list[str]) -> dict[str, SyncState | None]:
    """The stored sync states of `repos`: how child runs, on any machine, ended them."""
    return await in_warehouse(lambda warehouse: {r: warehouse.read_sync_state(r) for r in repos})
