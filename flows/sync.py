"""The sync flow: repositories (and organizations' repositories) -> DuckDB.

`sync_repos` validates every name, expands organizations, checks all repositories in batched
metadata queries, then syncs each changed one concurrently and in isolation: a repository that
fails is reported and the others finish; the run ends Failed if any failed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.blocks.system import Secret
from prefect.runtime import flow_run

from flows import tasks
from flows.report import Progress, RepoOutcome, publish_summary
from flows.runtime import (
    Runtime,
    SyncOptions,
    current,
    installed,
    token_limits,
    token_slot,
    warehouse_writer,
)
from ghsync import (
    COST_LABEL,
    GhsyncError,
    GitHubClient,
    Node,
    RepoMeta,
    RepoNotFound,
    ReposFailed,
    Settings,
    SyncState,
    SyncWindow,
    TokenPool,
    head_commit_id,
    parse_time,
    parse_tokens,
    plan_window,
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
    days_back: int | None = 30,
    full: bool = False,
    db: str | None = None,
    token_secret: str | None = None,
    concurrency_per_token: int = 2,
    page_size: int = 50,
    check_run_reserve: int = 100,
    max_wait_seconds: float = 900.0,
    checkpoint_ttl_hours: float = 24.0,
) -> list[RepoOutcome]:
    """Sync pull requests of `repos` and of every non-archived repository of `orgs`.

    `days_back` bounds a repository's first sync (None: everything); later syncs fetch what
    changed since the last one; `full` re-fetches everything. Tokens come from the Prefect
    Secret block named `token_secret` (comma-separated), else GITHUB_TOKENS / GITHUB_TOKEN.
    """
    log = get_run_logger()
    names = validate_repo_names(repos or [])
    settings = Settings()
    db_path = Path(db) if db else settings.db_path
    tokens = await _tokens(token_secret, settings)
    pool = TokenPool(tokens, max_wait=max_wait_seconds)
    fingerprints = [token.fingerprint for token in pool.tokens()]
    checkpoints = tasks.Checkpoints.expiring_after(timedelta(hours=checkpoint_ttl_hours))
    options = SyncOptions(days_back, full, page_size, check_run_reserve, checkpoints)
    client = GitHubClient(pool, settings.github_graphql_url, slot=token_slot)
    writer = warehouse_writer(db_path)
    async with client, token_limits(fingerprints, concurrency_per_token) as slots, writer:
        with installed(Runtime(client, writer, slots, options)):
            if len(tokens) > 1:  # tokens of one account share one budget: learn whose they are
                await client.identify()
            for org in orgs or []:
                names += [n for n in await tasks.list_org_repos_task(org) if n not in names]
            log.info("%d repositories to check, %d token(s)", len(names), len(pool.tokens()))
            COST_LABEL.set("metadata")
            metas = await tasks.check_repos_task(names, len(names)) if names else {}
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


async def _tokens(secret_name: str | None, settings: Settings) -> list[str]:
    if secret_name:
        secret: Secret[str] = await Secret.aload(secret_name)
        return parse_tokens(str(secret.get()), None)
    return tokens_from_settings(settings)


async def sync_repository(repo: str, meta: RepoMeta | None) -> RepoOutcome:
    """One repository, isolated: its failure becomes its outcome, never the others'."""
    log = get_run_logger()
    outcome = RepoOutcome(repo)
    started = time.monotonic()
    COST_LABEL.set(repo)
    client = current().client
    try:
        if meta is None:
            raise RepoNotFound(repo, "GitHub answered null for it")
        # No Prefect tags on the tasks: a tagged task run asks the API for tag concurrency slots
        # (two calls, each open to the server database's stalls) before it starts.
        await _sync(repo, meta, outcome)
    except GhsyncError as error:
        outcome.state, outcome.error = "failed", str(error)
        log.error("%s failed: %s", repo, error)
    except Exception as error:  # isolation: an unexpected failure is this repository's alone
        outcome.state, outcome.error = "failed", f"{type(error).__name__}: {error}"
        log.exception("%s failed unexpectedly", repo)
    finally:
        outcome.points, outcome.requests = client.points[repo], client.requests[repo]
        outcome.seconds = time.monotonic() - started
    return outcome


async def _sync(repo: str, meta: RepoMeta, outcome: RepoOutcome) -> None:
    log = get_run_logger()
    options = current().options
    state = await tasks.read_state_task(repo) or SyncState(repo, status="new")
    state = await _fetch_deferred_checks(repo, state, outcome)
    window = _resumed(state) or plan_window(
        watermark=state.watermark,
        newest_update=parse_time(meta.newest_update),
        days_back=options.days_back,
        full=options.full,
        now=datetime.now(UTC),
    )
    if window is None:
        outcome.state = "unchanged"
        log.info("%s unchanged since %s", repo, state.watermark)
        return
    state = _with_window(state, window, status="running")
    progress = Progress(repo, meta.pr_count)
    await progress.start()
    checkpoints = options.checkpoints
    cursor: str | None = state.cursor
    size, number = options.page_size, 1
    fetching = asyncio.create_task(checkpoints.fetch_pr_page(repo, cursor, window.key(), size, 1))
    try:
        while True:
            page = await fetching
            prs, stop = window.cut(page.nodes)
            last = stop or not page.has_next
            if not last:  # the next page is fetched while this one is completed and loaded
                fetching = asyncio.create_task(
                    checkpoints.fetch_pr_page(
                        repo, page.end_cursor, window.key(), page.page_size, number + 1
                    )
                )
            key = (repo, cursor, window.key(), size, number)
            prs, commits, state = await _complete(key, prs, state, outcome)
            cursor, size = page.end_cursor, page.page_size
            state = _replace(state, cursor=None if last else cursor)
            counts = await tasks.load_page_task(
                repo, number, tasks.bulk(prs), tasks.bulk(commits), state
            )
            outcome.add(counts)
            outcome.pages = number
            await progress.advance(len(prs))
            log.info("%s page %d: %d PRs loaded (%s)", repo, number, len(prs), counts)
            if last:
                break
            number += 1
    finally:
        fetching.cancel()  # a no-op unless this page failed while the next was being fetched
    done = _with_window(state, None, status="ok")
    done = _replace(done, watermark=window.until or state.watermark,
                    last_synced_at=datetime.now(UTC), cursor=None)  # fmt: skip
    await tasks.save_state_task(repo, done)
    await progress.finish()
    outcome.state = "synced"


PageKey = tuple[str, str | None, str, int, int]
"""What a page's checkpoint tasks are keyed by: repo, cursor, window, page size, number."""


async def _complete(
    key: PageKey, prs: list[Node], state: SyncState, outcome: RepoOutcome
) -> tuple[list[Node], dict[str, Node] | None, SyncState]:
    """The page's PRs with every nested list complete, and their head commits' check runs,
    or None with the commits added to the state's pending list when the tokens cannot afford
    them now."""
    checkpoints = current().options.checkpoints
    prs = (await checkpoints.complete_nested(*key, tasks.bulk(prs))).value if prs else []
    heads = {pr["number"]: head_commit_id(pr) for pr in prs}
    commit_ids = [commit for commit in heads.values() if commit]
    if commit_ids and _can_afford_checks():
        checks = await checkpoints.fetch_check_runs(*key, commit_ids)
        return prs, checks.value, state
    if commit_ids:
        pending = [f"{n}:{c}" for n, c in heads.items() if c]
        state = _replace(state, pending_check_runs=(*state.pending_check_runs, *pending))
        outcome.deferred_checks += len(pending)
    return prs, None, state


def _replace(state: SyncState, **changes: object) -> SyncState:
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def _with_window(state: SyncState, window: SyncWindow | None, *, status: str) -> SyncState:
    """The state with a session opened (`window`) or closed (None)."""
    since = window.since if window else None
    until = window.until if window else None
    return _replace(state, status=status, window_since=since, window_until=until, error=None)


def _resumed(state: SyncState) -> SyncWindow | None:
    """The window of a session a crashed or failed run left open; a `full` run does not
    resume an incremental one."""
    if state.window_until is None and state.window_since is None:
        return None
    if current().options.full and state.window_since is not None:
        return None
    return SyncWindow(state.window_since, state.window_until)


def _can_afford_checks() -> bool:
    """False when every token is below the reserve: check runs are deferred, not the PRs."""
    reserve = current().options.check_run_reserve
    statuses = current().client.pool.statuses()
    return any(s.remaining is None or s.remaining >= reserve for s in statuses)


async def _fetch_deferred_checks(repo: str, state: SyncState, outcome: RepoOutcome) -> SyncState:
    """Check runs an earlier run deferred come first, when the tokens can afford them."""
    if not state.pending_check_runs or not _can_afford_checks():
        return state
    heads = {}
    for entry in state.pending_check_runs:
        number, _, commit = entry.partition(":")
        heads[commit] = int(number)
    commits = await tasks.fetch_pending_checks_task(repo, list(heads))
    cleared = _replace(state, pending_check_runs=())
    loaded = await tasks.load_pending_checks_task(repo, heads, tasks.bulk(commits), cleared)
    outcome.check_runs += loaded
    return cleared
