"""Running the sync flow in this process (`ghsync sync`, `ghsync demo`) as a terminal program:
the checks of the input first, a temporary Prefect server when none is configured
(PREFECT_API_URL is respected), progress on stderr (`flows.terminal`, fed by the flow run's
events), Ctrl-C and SIGTERM (`flows.interrupts`), then one line per repository and a total on
stdout, and one `error:` line for what failed. The exit codes are the README's:

0 every repository synced; 1 some repositories failed (the others synced) or the run stopped
(every token exhausted past the maximum wait); 2 configuration and input (names, tokens, the
database file, GITHUB_GRAPHQL_URL, PREFECT_API_URL, a Secret block); 130 interrupted.

Prefect is imported only once the temporary server serves (`flows.prefect_server`)."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from flows.events import listening
from flows.interrupts import EXIT_CODE as INTERRUPTED_EXIT_CODE
from flows.interrupts import Interrupted, Interrupts
from flows.prefect_server import ServerStartFailed, kill_all, start_temporary_server
from flows.terminal import Display, display_for, new_log_file, repositories, route_logs
from ghsync import (
    AllTokensInvalid,
    ConfigError,
    GhsyncError,
    ReposFailed,
    Settings,
    WarehouseError,
    check_sync_options,
    check_writable,
    tokens_from_settings,
    validate_repo_names,
)

if TYPE_CHECKING:
    from flows.report import RepoOutcome

QUIET_PREFECT = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
CONFIGURATION_ERRORS = (ConfigError, WarehouseError, AllTokensInvalid)
"""Exit 2: nothing the next run can fix unless the user changes something."""


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
    token_secret: str | None = None,
    verbose: bool = False,
) -> int:
    """Run `sync_repos` once, showing its progress and printing what it did; the exit code."""

    def check() -> None:  # before a Prefect server starts or GitHub is asked
        validate_repo_names(repos)
        check_sync_options(
            days_back=days_back,
            concurrency_per_token=concurrency_per_token,
            page_size=page_size,
            ci_recheck_days=ci_recheck_days,
        )
        settings = Settings()
        if token_secret is None:
            tokens_from_settings(settings)
        check_writable(db or settings.db_path)

    parameters = {
        "repos": repos,
        "orgs": orgs,
        "days_back": days_back,
        "full": full,
        "db": str(db) if db else None,
        "token_secret": token_secret,
        "concurrency_per_token": concurrency_per_token,
        "page_size": page_size,
        "ci_recheck_days": ci_recheck_days,
        "checkpoints": checkpoints,
    }
    return run_flow("sync", parameters, check, verbose=verbose)


def run_flow(
    command: str, parameters: dict[str, Any], check: Callable[[], None], *, verbose: bool
) -> int:
    """Check, then run `sync_repos(**parameters)` with the display; print the outcome. The log
    file (none with `verbose`) is named after `command`."""
    started = time.monotonic()
    quiet_prefect()
    display = display_for(Console(stderr=True))
    log_file = None if verbose else new_log_file(command)

    def before_exit() -> None:
        display.stop(keep=True)
        kill_all()

    interrupts = Interrupts(before_exit).install()
    display.start()
    try:
        check()
        _start_prefect(display, log_file)
        from flows.sync import sync_repos  # Prefect reads PREFECT_API_URL when imported

        display.status("checking the repositories")
        with listening(display):
            interrupts.run(lambda: sync_repos(**parameters))
    except Interrupted:
        display.stop(keep=True)
        interrupts.say()
        return INTERRUPTED_EXIT_CODE
    except BaseException as error:
        display.stop()
        return _failed(error, display, started, log_file, verbose)
    display.stop()
    _print_result(display, started, log_file)
    return 0


def _start_prefect(display: Display, log_file: Path | None) -> None:
    """The temporary server (its output to the log file), then Prefect's logging routed."""
    if not os.environ.get("PREFECT_API_URL"):
        display.status("starting a temporary Prefect server")
    output = log_file.open("ab") if log_file else None
    try:  # the flow's imports (Prefect's logging configured) while the server starts
        start_temporary_server(output, meanwhile=_import_the_flow)
    finally:
        if output is not None:
            output.close()  # the server has its own copy
    route_logs(display, log_file)


def _import_the_flow() -> None:
    """Prefect (its logging configured, rerouted next) and the flow's modules."""
    import_module("prefect.main")
    import_module("flows.sync")


def _failed(
    error: BaseException, display: Display, started: float, log_file: Path | None, verbose: bool
) -> int:
    """Print what can be acted on and return the exit code; the traceback with `verbose`."""
    if isinstance(error, ReposFailed):
        _print_result(display, started, log_file)
        code = 1
        message = str(error)
    elif isinstance(error, CONFIGURATION_ERRORS):
        code, message = 2, str(error)
    elif isinstance(error, GhsyncError | ServerStartFailed):
        code, message = 1, str(error)
    elif isinstance(error, Exception):
        code = 1
        where = f"; the run's log: {log_file}" if log_file and log_file.exists() else ""
        message = f"unexpected {type(error).__name__}: {error} (--verbose shows where{where})"
    else:
        raise error  # SystemExit and the like
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    typer.echo(f"error: {message}", err=True)
    return code


def quiet_prefect() -> None:
    """No telemetry: the machine may be offline, and Prefect would log an error every run."""
    for name, value in QUIET_PREFECT.items():
        os.environ.setdefault(name, value)


def _print_result(display: Display, started: float, log_file: Path | None) -> None:
    outcomes = display.outcomes_in_order()
    print_outcomes(outcomes)
    typer.echo(total_line(outcomes, display, time.monotonic() - started))
    if log_file is not None and log_file.exists():
        typer.echo(f"Prefect's log of this run: {log_file}")


def print_outcomes(outcomes: list[RepoOutcome]) -> None:
    """One line per repository."""
    for o in outcomes:
        if o.state == "failed":
            reason = (o.error or "").removeprefix(f"{o.repo} ")  # the errors name their target
            typer.echo(f"{o.repo}: failed: {reason}")
            continue
        typer.echo(
            f"{o.repo}: {o.state}, {o.prs} PRs, {o.counted()}; {o.points} points in "
            f"{o.requests} requests, {o.seconds:.1f} s{_ci_note(o)}"
        )


def total_line(outcomes: list[RepoOutcome], display: Display, seconds: float) -> str:
    """`total: 4 repositories (3 synced, 1 failed), 300 PRs, 4,211 rows, 59 points in 32
    requests, 21.4 s` (points and requests of the whole run, its metadata checks too)."""
    states: dict[str, int] = {}
    for o in outcomes:
        states[o.state] = states.get(o.state, 0) + 1
    kinds = ", ".join(f"{count} {state}" for state, count in states.items())
    rows = sum(o.prs + o.rows.total() for o in outcomes)
    spent = display.spent
    return (
        f"total: {repositories(len(outcomes))} ({kinds or 'none'}), "
        f"{sum(o.prs for o in outcomes):,} PRs, {rows:,} rows, {spent.points:,} points in "
        f"{spent.requests:,} requests, {seconds:.1f} s"
    )


def _ci_note(outcome: RepoOutcome) -> str:
    if not outcome.ci_repolled:
        return ""
    return f"; CI re-polled for {outcome.ci_repolled} commits, {outcome.ci_changed} changed"
