"""The sync flow: repositories (and organizations' repositories) -> DuckDB.

`sync_repos` validates every name, expands organizations, checks all repositories in batched
metadata queries, then syncs each changed one concurrently and in isolation: a repository that
fails is reported and the others finish; the run ends Failed if any failed. A repository's
sync is a session (`ghsync.session`: its rules); this module runs its steps as tasks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows import tasks
from flows.checkpoints import PageRef, PageTasks, forget_checkpoints
from flows.fanout import fan_out_repos
from flows.report import Progress, publish_summary, tell_checked, tell_finished
from flows.runtime import Runtime, current, running
from flows.secrets import secret_tokens, secret_value
from flows.webhook import ci_heads_since
from ghsync import (
    COST_LABEL,
    DEFAULT_FAN_OUT,
    DEFAULT_OPTIONS,
    OWNER,
    CheckRunBatches,
    Credential,
    FanOut,
    GhsyncError,
    PendingCheck,
    PullRequestNode,
    RepoMeta,
    RepoNotFound,
    RepoOutcome,
    ReposFailed,
    RepoStatus,
    Settings,
    SyncOptions,
    SyncState,
    SyncWindow,
    TokenPool,
    advance_session,
    app_credentials,
    can_afford_checks,
    ci_due,
    ci_recheck_since,
    close_session,
    defer_ci,
    first_page_size,
    head_commit_id,
    incomplete,
    next_sizes,
    parse_location,
    parse_time,
    settle_ci,
    start_session,
    tokens_from_settings,
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
    days_back: int | None = DEFAULT_OPTIONS.days_back,
    full: bool = DEFAULT_OPTIONS.full,
    db: str | None = None,
    token_secret: str | None = None,
    app_key_secret: str | None = None,
    concurrency_per_token: int = DEFAULT_OPTIONS.concurrency_per_token,
    page_size: int = DEFAULT_OPTIONS.page_size,
    check_run_reserve: int = DEFAULT_OPTIONS.check_run_reserve,
    max_wait_seconds: float = DEFAULT_OPTIONS.max_wait_seconds,
    checkpoint_ttl_hours: float = DEFAULT_OPTIONS.checkpoint_ttl_hours,
    checkpoints: bool = DEFAULT_OPTIONS.checkpoints,
    ci_recheck_days: int = DEFAULT_OPTIONS.ci_recheck_days,
    fan_out: str | None = None,
    fan_out_prs: int = DEFAULT_FAN_OUT.prs_per_run,
    fan_out_attempts: int = DEFAULT_FAN_OUT.attempts,
    metadata: list[dict[str, Any]] | None = None,
    events_since: datetime | None = None,
    known_only: bool = False,
) -> list[RepoOutcome]:
    """Sync pull requests of `repos` and of every non-archived repository of `orgs` into `db`
    (default GHSYNC_DB), with the tokens of the Prefect Secret block `token_secret`
    (comma-separated), else GITHUB_TOKENS / GITHUB_TOKEN, and the installations of the GitHub
    App of GITHUB_APP_ID (its private key from the Secret block `app_key_secret`, else
    GITHUB_APP_PRIVATE_KEY / _PATH). `days_back` bounds a first sync,
    later ones fetch what changed; the other options: `ghsync.SyncOptions`.

    With `fan_out` (the child deployment, `sync-repos/sync-repo`) the run checks the
    repositories and syncs the changed ones in flow runs of that deployment, `fan_out_prs`
    PRs at most per run (a bigger repository alone), each started up to `fan_out_attempts`
    times (`flows.fanout`). A child is given the parent's `metadata` and checks nothing.

    A run of GitHub's webhook events (the `on-github-event` deployment) gives `events_since`,
    the time of the event that started it: the commits named by the repositories' CI events
    since then have their CI asked again. With `known_only`, a repository never synced before
    is left to the scheduled sync (an organization's webhook names all its repositories)."""
    names = validate_repo_names(repos or [])
    options = SyncOptions(
        days_back=days_back, full=full, page_size=page_size, check_run_reserve=check_run_reserve,
        concurrency_per_token=concurrency_per_token, max_wait_seconds=max_wait_seconds,
        checkpoint_ttl_hours=checkpoint_ttl_hours, checkpoints=checkpoints,
        ci_recheck_days=ci_recheck_days,
    )  # fmt: skip
    plan = FanOut(fan_out, fan_out_prs, fan_out_attempts) if fan_out else None
    settings = Settings()
    credentials = await _credentials(token_secret, app_key_secret, settings)
    pool = TokenPool(credentials, max_wait=options.max_wait_seconds)
    location = parse_location(db) if db else settings.location
    async with running(pool, settings.github_graphql_url, location, options) as runtime:
        if known_only:
            names = await _known(names)
        metas = await _metadata(names, orgs or [], metadata)
        ci_shas = await ci_heads_since(names, events_since) if events_since else {}
        sources = {"db": db, "token_secret": token_secret, "app_key_secret": app_key_secret}
        outcomes = await _outcomes(metas, plan, sources | dataclasses.asdict(options), ci_shas)
        if metadata is None:  # a fan-out's child leaves the upkeep and report to its parent
            await tasks.compact_task()
            reported = [o.repo for o in outcomes if o.state != RepoStatus.NOT_FOUND]
            if reported:
                await tasks.report_task(reported, settings.report)
        await _summarized(runtime, outcomes)
    if failed := {o.repo: o.error or "failed" for o in outcomes if o.state == RepoStatus.FAILED}:
        raise ReposFailed(failed)
    return outcomes


async def _credentials(
    token_secret: str | None, app_key_secret: str | None, settings: Settings
) -> list[Credential | str]:
    """The personal tokens and the app installations of the run."""
    tokens = await secret_tokens(token_secret) if token_secret else tokens_from_settings(settings)
    key = await secret_value(app_key_secret, "app_key_secret") if app_key_secret else None
    return [*tokens, *await app_credentials(settings, private_key=key)]


async def _known(names: list[str]) -> list[str]:
    """The repositories of `names` synced before (with a stored sync state)."""
    states = await tasks.read_states(names)
    for name in (name for name, state in states.items() if state is None):
        get_run_logger().info("%s was never synced: left to the scheduled sync", name)
    return [name for name in names if states[name] is not None]


async def _metadata(
    names: list[str], orgs: list[str], given: list[dict[str, Any]] | None
) -> dict[str, RepoMeta | None]:
    """The metadata of `names` and of `orgs`' repositories, checked; a child run's is
    `given` by its parent (None for a name without: not found)."""
    if given is None:
        return await _checked(names + await _org_repos(orgs, names))
    metas = {meta.repo: meta for meta in map(RepoMeta.from_dict, given)}
    return {name: metas.get(name) for name in names}


async def _outcomes(
    metas: dict[str, RepoMeta | None],
    plan: FanOut | None,
    parameters: dict[str, Any],
    ci_shas: dict[str, list[str]],
) -> list[RepoOutcome]:
    """Each repository synced here (the CI of its `ci_shas` asked again), or with a `plan`,
    in child runs (started with `parameters`) but those not found (their outcome is the same
    either way); in order."""
    options = current().options
    page_tasks = PageTasks.expiring_after(options.checkpoint_ttl)
    here = [n for n, meta in metas.items() if plan is None or meta is None]
    outcomes = await asyncio.gather(
        *(sync_repository(n, metas[n], page_tasks, ci_shas.get(n, [])) for n in here)
    )
    if plan is not None:
        found = [meta for meta in metas.values() if meta is not None]
        outcomes += await fan_out_repos(plan, found, parameters)
    order = {repo: place for place, repo in enumerate(metas)}
    return sorted(outcomes, key=lambda outcome: order[outcome.repo])


async def _org_repos(orgs: list[str], named: list[str]) -> list[str]:
    """The repositories of `orgs` not among the `named` ones, each once."""
    found: list[str] = []
    for org in orgs:
        found += [n for n in await tasks.list_org_repos_task(org) if n not in named + found]
    return found


async def _summarized(runtime: Runtime, outcomes: list[RepoOutcome]) -> None:
    """The writer's figures in the log, the run's summary artifact."""
    stats = runtime.warehouse.stats
    get_run_logger().info("%d pages loaded in %d transactions", stats.pages, stats.transactions)
    await publish_summary(outcomes, runtime.client.pool.statuses())


async def _checked(names: list[str]) -> dict[str, RepoMeta | None]:
    """The batched metadata check of `names` (None: not found); saves the found ones'
    `repositories` rows."""
    tokens = len(current().client.pool.tokens())
    get_run_logger().info("%d repositories to check, %d token(s)", len(names), tokens)
    COST_LABEL.set("metadata")
    metas = await tasks.check_repos_task(names, len(names)) if names else {}
    tell_checked(metas)
    if found := [meta for meta in metas.values() if meta is not None]:
        await tasks.save_repositories_task(found, len(found))
    return metas


@dataclass
class Repository:
    """One repository's sync in this run: what it works with, and what it did so far."""

    meta: RepoMeta
    outcome: RepoOutcome
    page_tasks: PageTasks
    checks: CheckRunBatches = field(default_factory=CheckRunBatches)
    """The head commits whose CI is asked, in full requests across pages."""
    queued: dict[str, list[PendingCheck]] = field(default_factory=dict)
    """The PRs of the head commits in `checks`, by commit id."""
    fetched: set[int] = field(default_factory=set)
    """The PRs whose CI this run fetched (not asked twice)."""
    repolled: set[int] = field(default_factory=set)
    """The PRs whose CI is asked again (due from earlier runs, or recently updated)."""
    ci_shas: list[str] = field(default_factory=list)
    """Commits whose CI GitHub's webhooks said changed: their PRs' CI is asked again."""

    @property
    def repo(self) -> str:
        return self.meta.repo

    def queue(self, heads: list[PendingCheck]) -> None:
        """Ask the CI of `heads` with the next requests."""
        for head in heads:
            self.queued.setdefault(head.commit_id, []).append(head)
        self.checks.add(head.commit_id for head in heads)


async def sync_repository(
    repo: str, meta: RepoMeta | None, page_tasks: PageTasks, ci_shas: list[str]
) -> RepoOutcome:
    """One repository, isolated: its failure becomes its outcome, never the others'."""
    log = get_run_logger()
    outcome = RepoOutcome(repo)
    started = time.monotonic()
    COST_LABEL.set(repo)
    OWNER.set(repo.split("/", 1)[0])  # an app installation reads only its account's repos
    client = current().client
    try:
        if meta is None:
            raise RepoNotFound(repo, "GitHub answered null for it")
        # No Prefect tags on the tasks: a tagged task run asks the API for tag concurrency slots
        # (two calls, each open to the server database's stalls) before it starts.
        await _sync(Repository(meta, outcome, page_tasks, ci_shas=ci_shas))
    except GhsyncError as error:
        outcome.failed(str(error))
        log.error("%s failed: %s", repo, error)
    except Exception as error:  # isolation: an unexpected failure is this repository's alone
        outcome.failed(f"{type(error).__name__}: {error}")
        log.exception("%s failed unexpectedly", repo)
    finally:
        outcome.points, outcome.requests = client.points[repo], client.requests[repo]
        outcome.seconds = time.monotonic() - started
    # An interrupted run records nothing: its repositories stay `running` with no live run,
    # which `ghsync status` shows as interrupted.
    status = RepoStatus.NOT_FOUND if meta is None else outcome.state
    await tasks.record_outcome(repo, status, outcome.error)
    tell_finished(outcome)
    return outcome


async def _sync(job: Repository) -> None:
    """The repository's changed PRs, page by page, then the CI that settled since."""
    state = await tasks.read_state_task(job.repo) or SyncState(job.repo, status="new")
    newest = parse_time(job.meta.newest_update)
    started = start_session(state, newest, current().options, datetime.now(UTC))
    if started is None:
        job.outcome.state = RepoStatus.UNCHANGED
        get_run_logger().info("%s unchanged since %s", job.repo, state.watermark)
    else:
        if started.session_id != state.session_id:
            await tasks.save_state_task(job.repo, started)  # a crash from here on resumes it
        state = await _sync_pages(job, started)
        job.outcome.state = RepoStatus.SYNCED
    await _repoll_ci(job, state)


async def _sync_pages(job: Repository, state: SyncState) -> SyncState:
    """Load the open session's pages (`state`: its window, id, cursor, page size), then close
    it; returns the closed state."""
    options = current().options
    start = first_page_size(state, options)
    first = PageRef.first(state, start)
    progress = await Progress.start(job.outcome, job.meta.pr_count)
    async with aclosing(_pages(job, first, state.window)) as pages:
        async for page in pages:
            state = await _load(job, page, state)
            await progress.advance(len(page.prs))
    done = close_session(state, options, start=start, now=datetime.now(UTC))
    await tasks.save_state_task(job.repo, done)
    forget_checkpoints(first.session)
    await progress.finish()
    return done


@dataclass(frozen=True)
class Page:
    """A page of the session's walk: its PRs inside the window, where the next one starts
    (None: this is the last), and the page size that worked."""

    ref: PageRef
    prs: list[PullRequestNode]
    next_cursor: str | None
    page_size: int


async def _pages(job: Repository, ref: PageRef, window: SyncWindow) -> AsyncGenerator[Page, None]:
    """The session's pages from `ref` until the window's start or the end; the next page is
    fetched while the caller completes and loads this one."""
    fetching = asyncio.create_task(job.page_tasks.fetch_pr_page(ref))
    try:
        while True:
            answer = await fetching
            prs, stop = window.cut(answer.nodes)
            last = stop or not answer.has_next
            raised = next_sizes(ref.raised, answer, ref.page_size)
            following = ref.next(answer.end_cursor, answer.page_size, raised)
            if not last:
                fetching = asyncio.create_task(job.page_tasks.fetch_pr_page(following))
            yield Page(ref, prs, None if last else answer.end_cursor, answer.page_size)
            if last:
                return
            ref = following
    finally:
        fetching.cancel()  # a no-op unless this page failed while the next was being fetched


async def _load(job: Repository, page: Page, state: SyncState) -> SyncState:
    """Complete the page and load it with the advanced state (its CI pending), then fetch
    and load the CI that fills whole requests by now."""
    prs, state = await _complete(job, page.ref, page.prs, state)
    state = advance_session(state, cursor=page.next_cursor, page_size=page.page_size)
    number = page.ref.number
    counts = await tasks.load_page_task(job.repo, number, tasks.bulk(prs), state)
    job.outcome.add(counts)
    job.outcome.pages = number
    get_run_logger().info("%s page %d: %d PRs loaded (%s)", job.repo, number, len(prs), counts)
    return await _fetch_ci(job, state, everything=False)


async def _complete(
    job: Repository, ref: PageRef, prs: list[PullRequestNode], state: SyncState
) -> tuple[list[PullRequestNode], SyncState]:
    """The page's PRs with every nested list complete, and the state with their head
    commits' CI pending: queued (asked with the next requests), or deferred to a later run
    when the tokens cannot afford it now."""
    if incomplete(prs):  # most pages are complete as fetched: no task run, no checkpoint
        completing = job.page_tasks.complete_nested(ref, tasks.bulk(prs), tasks.bulk(job.checks))
        prs = (await completing).value
    heads = [PendingCheck(pr["number"], c) for pr in prs if (c := head_commit_id(pr))]
    state = defer_ci(state, [pr["number"] for pr in prs], heads)
    if heads and _can_afford_checks():
        job.queue(heads)
    else:
        job.outcome.deferred_checks += len(heads)
    return prs, state


async def _fetch_ci(job: Repository, state: SyncState, *, everything: bool) -> SyncState:
    """Fetch the queued CI that fills whole requests (`everything`: all of it), and load
    what is complete with the state that settles it; returns that state. Nothing is asked
    while every token is below the reserve (the CI stays pending)."""
    if not job.queued or not (everything or job.checks.fills_a_request()):
        return state
    if not _can_afford_checks():
        return state
    fetched = (await tasks.fetch_ci_task(job.repo, tasks.bulk(job.checks), everything)).value
    commits = {commit_id: commit for commit_id, commit in fetched.items() if commit is not None}
    heads = [head for commit_id in fetched for head in job.queued.pop(commit_id, [])]
    repolled = [head for head in heads if head.number in job.repolled]
    for group in ([head for head in heads if head.number not in job.repolled], repolled):
        if not group:
            continue
        numbers = [head.number for head in group]
        state = settle_ci(state, numbers, group, commits)
        loaded, changed = await tasks.load_ci_task(job.repo, group, tasks.bulk(commits), state)
        job.outcome.rows["check_runs"] += loaded
        job.fetched.update(numbers)
        if group is repolled:
            job.outcome.ci_changed += changed
    return state


async def _repoll_ci(job: Repository, state: SyncState) -> None:
    """Fetch the CI still queued, and again the CI the session says is due (deferred or not
    settled), that of the open PRs updated in the last `ci_recheck_days` (re-runs of
    finished checks) and that of the commits CI webhooks named: GitHub moves no PR's
    updatedAt for any. All of it in the same requests; skipped while every token is below
    the reserve (the due ones stay due, the named ones become due: no later run hears of
    them again)."""
    if not _can_afford_checks():
        if job.ci_shas:
            heads = await tasks.read_ci_heads_task(job.repo, None, job.ci_shas)
            state = defer_ci(state, [head.number for head in heads], heads)
            await tasks.save_state_task(job.repo, state)
        job.outcome.deferred_checks += sum(map(len, job.queued.values()))
        if due := ci_due(state, job.fetched):
            get_run_logger().warning(
                "%s: CI of %d head commit(s) not fetched: tokens low", job.repo, len(due)
            )
        return
    since = ci_recheck_since(current().options, datetime.now(UTC))
    named = job.ci_shas
    recent = await tasks.read_ci_heads_task(job.repo, since, named) if since or named else []
    this_run = {head.number for heads in job.queued.values() for head in heads}
    due = [head for head in ci_due(state, job.fetched, recent) if head.number not in this_run]
    job.repolled.update(head.number for head in due)
    job.queue(due)
    state = await _fetch_ci(job, state, everything=True)
    if due:
        waiting = {head.number for head in state.pending_check_runs}
        job.outcome.ci_repolled = len(due)
        get_run_logger().info(
            "%s: CI of %d head commit(s) re-polled, %d changed, %d not settled yet",
            job.repo,
            len(due),
            job.outcome.ci_changed,
            sum(head.number in waiting for head in due),
        )


def _can_afford_checks() -> bool:
    runtime, owner = current(), OWNER.get()
    statuses = runtime.client.pool.statuses()
    return can_afford_checks(statuses, runtime.options.check_run_reserve, owner)
