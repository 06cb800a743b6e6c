"""Running the sync flow in this process (`ghsync sync`, `ghsync demo`): a temporary Prefect
server when none is configured (PREFECT_API_URL is respected), a summary on stdout, and an
exit code: 0 all synced, 1 some repositories failed (or the run stopped, e.g. every token
exhausted past the maximum wait), 2 bad input (names, tokens, database path, API URL).

Prefect is imported only once the temporary server serves (`flows.prefect_server`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from flows.prefect_server import ServerStartFailed, start_temporary_server
from ghsync import (
    ConfigError,
    GhsyncError,
    ReposFailed,
    Settings,
    WarehouseError,
    check_writable,
    tokens_from_settings,
    validate_repo_names,
)

if TYPE_CHECKING:
    from flows.report import RepoOutcome

QUIET_PREFECT = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


def run_sync(
    repos: list[str],
    orgs: list[str],
    *,
    db: Path | None,
    days_back: int | None,
    full: bool,
    concurrency_per_token: int = 2,
    page_size: int = 50,
    ci_recheck_days: int = 3,
    checkpoints: bool = True,
) -> int:
    """Run `sync_repos` once and print what it did; returns the exit code."""
    quiet_prefect()
    try:
        validate_repo_names(repos)  # fail fast, before a Prefect server starts
        settings = Settings()
        tokens_from_settings(settings)
        check_writable(db or settings.db_path)
        start_temporary_server()
        from flows.sync import sync_repos  # Prefect reads PREFECT_API_URL when imported

        outcomes = asyncio.run(
            sync_repos(
                repos=repos,
                orgs=orgs,
                days_back=days_back,
                full=full,
                db=str(db) if db else None,
                concurrency_per_token=concurrency_per_token,
                page_size=page_size,
                ci_recheck_days=ci_recheck_days,
                checkpoints=checkpoints,
            )
        )
    except ReposFailed as failed:
        typer.echo(f"error: {failed}", err=True)
        return 1
    except (ConfigError, WarehouseError) as error:
        typer.echo(f"error: {error}", err=True)
        return 2
    except (GhsyncError, ServerStartFailed) as error:  # the run stopped before the repositories
        typer.echo(f"error: {error}", err=True)
        return 1
    print_outcomes(outcomes)
    return 0


def quiet_prefect() -> None:
    """No telemetry: the machine may be offline, and Prefect would log an error every run."""
    for name, value in QUIET_PREFECT.items():
        os.environ.setdefault(name, value)


def print_outcomes(outcomes: list[RepoOutcome]) -> None:
    """One line per repository."""
    for o in outcomes:
        typer.echo(
            f"{o.repo}: {o.state}, {o.prs} PRs, {o.reviews} reviews, {o.commits} commits, "
            f"{o.files} files, {o.check_runs} check runs; {o.points} points in {o.requests} "
            f"requests, {o.seconds:.1f} s{_ci_note(o)}"
        )


def _ci_note(outcome: RepoOutcome) -> str:
    if not outcome.ci_repolled:
        return ""
    return f"; CI re-polled for {outcome.ci_repolled} commits, {outcome.ci_changed} changed"
