"""The sync flow: repositories (and organizations' repositories) -> DuckDB.

`sync_repos` validates every name, expands organizations, checks all repositories in batched
metadata queries, then syncs each changed one concurrently and in isolation: a repository that
fails is reported and the others finish; the run ends Failed if any failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import tasks
from flows.report import Progress, RepoOutcome, publish_summary, tell_checked, tell_finished
from flows.runtime import (
    Runtime,
    SyncOptions,
    current,
    installed,
    token_limits,
    token_slot,
    warehouse_writer,
)
from flows.secrets import secret_tokens
from ghsync import (
    COST_LABEL,
    CommitChecks,
    GhsyncError,
    GitHubClient,
    PendingCheck,
    PullRequestNode,
    RepoMeta,
    RepoNotFound,
    ReposFailed,
    RepoStatus,
    Settings,
    SyncState,
    SyncWindow,
    TokenPool,
    TokenState,
    check_sync_options,
    head_commit_id,
    parse_time,
    plan_window,
    presence,
    replace_pending,
    runs_path,
    synced_depth,
    tokens_from_settings,
    unsettled,
    validate_repo_names,
)


def run_name() -> str:
    """`sync acme/app, acme/api + org acme`: what the run syncs, as the UI lists it."""
    parameters = flow_run.parameters or {}
    parts = [", ".join(parameters.get("repos") or [])]
    parts += [f"org {org}" for org in parameters.get("orgs") or []]
    mode = " (full)" if parameters.get("full") else ""
    return "sync " + (" + ".join(part for part in parts if part) or "nothing") + mode


@flow(name="sync-repos", flow_run_name=run_name, log_prints=False)
async def sync_repos(
    repos: list[str] | None = None,
    orgs: list[str] | None = None,
    days_back: int | None = 30,
    full: bool = False,
    db: str | None = None,
    token_secret: str | None = None,
    concurrency_per_token: int = 2,
    page_size: int = 50,
    check_run_reserve: int = 100,
    max_wait_seconds: float = 900.0,
    checkpoint_ttl_hours: float = 24.0,
    checkpoints: bool = True,
    ci_recheck_days: int = 3,
) -> list[RepoOutcome]:
    """Sync pull requests of `repos` and of every non-archived repository of `orgs`.

    `days_back` bounds a repository's first sync (None: everything); later syncs fetch what
    changed since the last one; `full` re-fetches everything. Every run also re-polls the CI
    of head commits not settled when fetched, and of open PRs updated in the last
    `ci_recheck_days` (0: not those). `checkpoints` False persists no fetched page under
    PREFECT_HOME (a crashed run then asks GitHub again). Tokens come from the Prefect Secret
    block named `token_secret` (comma-separated), else GITHUB_TOKENS / GITHUB_TOKEN.
    """
    log = get_run_logger()
    names = validate_repo_names(repos or [])
    check_sync_options(
        days_back=days_back,
        concurrency_per_token=concurrency_per_token,
        page_size=page_size,
        check_run_reserve=check_run_reserve,
        max_wait_seconds=max_wait_seconds,
        checkpoint_ttl_hours=checkpoint_ttl_hours,
        ci_recheck_days=ci_recheck_days,
    )
    settings = Settings()
    db_path = Path(db) if db else settings.db_path
    tokens = await _tokens(token_secret, settings)
    pool = TokenPool(tokens, max_wait=max_wait_seconds)
    credential_ids = [credential.id for credential in pool.tokens()]
    ttl = timedelta(hours=checkpoint_ttl_hours) if checkpoints else None
    options = SyncOptions(
        days_back,
        full,
        page_size,
        check_run_reserve,
        tasks.Checkpoints.expiring_after(ttl),
        ci_recheck_days,
    )
    client = GitHubClient(pool, settings.github_graphql_url, slot=token_slot)
    writer = warehouse_writer(db_path)
    limits = token_limits(credential_ids, concurrency_per_token)
    async with presence(runs_path(db_path), _nothing), client, limits as slots, writer:
        with installed(Runtime(client, writer, slots, options)):
            if len(tokens) > 1:  # tokens of one account share one budget: learn whose they are
                await client.identify()
            for org in orgs or []:
                names += [n for n in await tasks.list_org_repos_task(org) if n not in names]
            log.info("%d repositories to check, %d token(s)", len(names), len(pool.tokens()))
            COST_LABEL.set("metadata")
            metas = await tasks.check_repos_task(names, len(names)) if names else {}
            tell_checked(metas)
            found = [meta for meta in metas.values() if meta is not None]
            if found:
                await tasks.save_repositories_task(found, len(found))
            outcomes = await asyncio.gather(*(sync_repository(n, metas[n]) for n in names))
        stats = writer.stats
        log.info("%d pages loaded in %d transactions", stats.pages, stats.transactions)
        await publish_summary(list(outcomes), pool.statuses())
    failed = [o for o in outcomes if o.state == "failed"]
    if failed:
        raise ReposFailed({o.repo: o.error or "failed" for o in failed})
    return list(outcomes)


async def _nothing() -> None:
    """No clean-up for the first run of a warehouse: `ghsync status` only asks who is alive."""


async def _tokens(secret_name: str | None, settings: Settings) -> list[str]:
    if secret_name:
        return await secret_tokens(secret_name)
    return tokens_from_settings(settings)


async def sync_repository(repo: str, meta: RepoMeta | None) -> RepoOutcome:
    """One repository, isolated: its failure becomes its outcome, never the others'."""
    log = get_run_logger()
    outcome = RepoOutcome(repo)
    started = time.monotonic()
    COST_LABEL.set(repo)
    client = current().client
    status = RepoStatus.FAILED
    try:
        if meta is None:
            status = RepoStatus.NOT_FOUND
            raise RepoNotFound(repo, "GitHub answered null for it")
        # No Prefect tags on the tasks: a tagged task run asks the API for tag concurrency slots
        # (two calls, each open to the server database's stalls) before it starts.
        await _sync(repo, meta, outcome)
        status = RepoStatus(outcome.state)
    except GhsyncError as error:
        outcome.state, outcome.error = "failed", str(error)
        log.error("%s failed: %s", repo, error)
    except Exception as error:  # isolation: an unexpected failure is this repository's alone
        outcome.state, outcome.error = "failed", f"{type(error).__name__}: {error}"
        log.exception("%s failed unexpectedly", repo)
    finally:
        outcome.points, outcome.requests = client.points[repo], client.requests[repo]
        outcome.seconds = time.monotonic() - started
    # An interrupted run records nothing: its repositories stay `running` with no live run,
    # which `ghsync status` shows as interrupted.
    await tasks.record_outcome(repo, status, outcome.error)
    tell_finished(outcome)
    return outcome


async def _sync(repo: str, meta: RepoMeta, outcome: RepoOutcome) -> None:
    """The repository's changed PRs, page by page, then the CI that settled since."""
    log = get_run_logger()
    state = await tasks.read_state_task(repo) or SyncState(repo, status="new")
    session = _resumed(state) or _opened(state, meta)
    fetched: set[int] = set()
    if session is None:
        outcome.state = "unchanged"
        log.info("%s unchanged since %s", repo, state.watermark)
    else:
        if session.session_id != state.session_id:
            await tasks.save_state_task(repo, session)  # a crash from here on resumes it
        state = await _sync_pages(repo, meta, session, fetched, outcome)
        outcome.state = "synced"
    await _repoll_ci(repo, state, fetched, outcome)


async def _sync_pages(
    repo: str, meta: RepoMeta, state: SyncState, fetched: set[int], outcome: RepoOutcome
) -> SyncState:
    """Walk the open session's pages (`state`: its window, session id, cursor, page size) and
    close it; returns the closed state. `fetched` collects the PRs whose CI came with a page."""
    log = get_run_logger()
    options = current().options
    checkpoints = options.checkpoints
    window = SyncWindow(state.window_since, state.window_until)
    session = state.session_id
    assert session is not None
    start = min(options.page_size, state.page_size or options.page_size)
    progress = Progress(outcome, meta.pr_count)
    await progress.start()

    def page(cursor: str | None, size: int, number: int) -> tasks.PageRef:
        return tasks.PageRef(repo, session, cursor, window.key(), size, number)

    size = start
    current_page = page(state.cursor, size, 1)
    fetching = asyncio.create_task(checkpoints.fetch_pr_page(current_page))
    try:
        while True:
            answer = await fetching
            prs, stop = window.cut(answer.nodes)
            last = stop or not answer.has_next
            next_page = page(answer.end_cursor, answer.page_size, current_page.number + 1)
            if not last:  # the next page is fetched while this one is completed and loaded
                fetching = asyncio.create_task(checkpoints.fetch_pr_page(next_page))
            prs, commits, state = await _complete(current_page, prs, state, fetched, outcome)
            size = answer.page_size
            state = _replace(state, cursor=None if last else answer.end_cursor, page_size=size)
            counts = await tasks.load_page_task(
                repo, current_page.number, tasks.bulk(prs), tasks.bulk(commits), state
            )
            outcome.add(counts)
            outcome.pages = current_page.number
            await progress.advance(len(prs))
            log.info("%s page %d: %d PRs loaded (%s)", repo, current_page.number, len(prs), counts)
            if last:
                break
            current_page = next_page
    finally:
        fetching.cancel()  # a no-op unless this page failed while the next was being fetched
    done = _closed(state, window, working=size, start=start)
    await tasks.save_state_task(repo, done)
    tasks.forget_checkpoints(session)
    await progress.finish()
    return done


async def _complete(
    page: tasks.PageRef,
    prs: list[PullRequestNode],
    state: SyncState,
    fetched: set[int],
    outcome: RepoOutcome,
) -> tuple[list[PullRequestNode], dict[str, CommitChecks] | None, SyncState]:
    """The page's PRs with every nested list complete, their head commits' check runs (None
    when the tokens cannot afford them now), and the state with the page's heads whose CI the
    next run must fetch: not settled yet, or all of them when deferred."""
    checkpoints = current().options.checkpoints
    prs = (await checkpoints.complete_nested(page, tasks.bulk(prs))).value if prs else []
    heads = [PendingCheck(pr["number"], c) for pr in prs if (c := head_commit_id(pr))]
    numbers = [pr["number"] for pr in prs]
    if heads and _can_afford_checks():
        checks = (await checkpoints.fetch_check_runs(page, [h.commit_id for h in heads])).value
        fetched.update(numbers)
        pending = replace_pending(state.pending_check_runs, numbers, unsettled(heads, checks))
        return prs, checks, _replace(state, pending_check_runs=pending)
    outcome.deferred_checks += len(heads)
    pending = replace_pending(state.pending_check_runs, numbers, heads)
    return prs, None, _replace(state, pending_check_runs=pending)


async def _repoll_ci(repo: str, state: SyncState, fetched: set[int], outcome: RepoOutcome) -> None:
    """Fetch again the CI of the head commits the state says are due (deferred or not settled)
    and, to catch re-runs of finished checks, of the open PRs updated in the last
    `ci_recheck_days`: GitHub does not move a PR's updatedAt for either. PRs whose CI came with
    a page of this run are not asked twice. Skipped while every token is below the reserve
    (the due ones stay due)."""
    log = get_run_logger()
    options = current().options
    due = {p.number: p for p in state.pending_check_runs if p.number not in fetched}
    if not _can_afford_checks():
        if due:
            log.warning("%s: CI of %d head commit(s) not re-polled: tokens low", repo, len(due))
        return
    if options.ci_recheck_days > 0:
        since = datetime.now(UTC) - timedelta(days=options.ci_recheck_days)
        for head in await tasks.read_open_heads_task(repo, since):
            if head.number not in fetched:
                due.setdefault(head.number, head)
    if not due:
        return
    heads = list(due.values())
    commits = await tasks.fetch_ci_task(repo, [head.commit_id for head in heads])
    waiting = unsettled(heads, commits)
    pending = replace_pending(state.pending_check_runs, due, waiting)
    done = _replace(state, pending_check_runs=pending)
    loaded, changed = await tasks.load_ci_task(repo, heads, tasks.bulk(commits), done)
    outcome.rows["check_runs"] += loaded
    outcome.ci_repolled, outcome.ci_changed = len(heads), changed
    log.info(
        "%s: CI of %d head commit(s) re-polled, %d changed, %d not settled yet",
        repo,
        len(heads),
        changed,
        len(waiting),
    )


def _replace(state: SyncState, **changes: object) -> SyncState:
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def _opened(state: SyncState, meta: RepoMeta) -> SyncState | None:
    """The state with a new session opened (a window and a fresh id), or None when the
    repository has nothing new."""
    options = current().options
    window = plan_window(
        watermark=state.watermark,
        newest_update=parse_time(meta.newest_update),
        days_back=options.days_back,
        full=options.full,
        now=datetime.now(UTC),
        depth_since=state.depth_since,
    )
    if window is None:
        return None
    return _replace(
        state,
        status=RepoStatus.RUNNING,
        window_since=window.since,
        window_until=window.until,
        session_id=uuid.uuid4().hex,
        cursor=None,
        error=None,
    )


def _resumed(state: SyncState) -> SyncState | None:
    """The state of a session a crashed or failed run left open, to go on with; a `full` run
    does not resume an incremental one."""
    if state.session_id is None:
        return None
    if current().options.full and state.window_since is not None:
        return None
    return _replace(state, status=RepoStatus.RUNNING, error=None)


def _closed(state: SyncState, window: SyncWindow, *, working: int, start: int) -> SyncState:
    """The state of a session that went through every page: the watermark moves to the
    window's end. The page size that worked is kept for the next session; one that never had
    to shrink grows back by a quarter (a repository whose pages time out at the run's size
    pays one timeout every few runs instead of one every run)."""
    requested = current().options.page_size
    size = working if working < start else min(requested, start + max(1, start // 4))
    return _replace(
        state,
        status=RepoStatus.SYNCED,
        depth_since=synced_depth(state.depth_since, state.watermark, window),
        watermark=window.until or state.watermark,
        last_synced_at=datetime.now(UTC),
        cursor=None,
        window_since=None,
        window_until=None,
        session_id=None,
        page_size=size,
        error=None,
    )


def _can_afford_checks() -> bool:
    """False when every usable token's account is below the reserve: check runs are deferred,
    not the PRs. A token dropped after a 401 counts for nothing."""
    reserve = current().options.check_run_reserve
    statuses = current().client.pool.statuses()
    valid = [s for s in statuses if s.state is not TokenState.INVALID]
    return any(s.remaining is None or s.remaining >= reserve for s in valid)
