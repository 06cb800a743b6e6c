"""Running the sync flow in this process (`ghsync sync`, `ghsync demo`) as a terminal program:
the checks of the input first, a temporary Prefect server when none is configured
(PREFECT_API_URL is respected), progress on stderr (`ghsync.terminal`, fed by the flow run's
events), Ctrl-C and SIGTERM (`ghsync.interrupts`), then one line per repository and a total on
stdout, and one `error:` line for what failed. The exit codes are the README's:

0 every repository synced; 1 some repositories failed (the others synced) or the run stopped
(every token exhausted past the maximum wait); 2 configuration and input (names, tokens, the
database file, GITHUB_GRAPHQL_URL, PREFECT_API_URL, a Secret block); 130 interrupted.

Prefect is imported only once the temporary server serves (`flows.prefect_server`)."""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

import typer
from rich.console import Console

from flows.prefect_server import ServerStartFailed, kill_all, start_temporary_server
from ghsync import (
    INTERRUPTED_EXIT_CODE,
    AllTokensInvalid,
    ConfigError,
    Display,
    GhsyncError,
    Interrupted,
    Interrupts,
    ReposFailed,
    Settings,
    SyncOptions,
    WarehouseError,
    app_key,
    check_writable,
    display_for,
    listening,
    new_log_file,
    outcome_line,
    parse_location,
    route_logs,
    tokens_from_settings,
    total_line,
    validate_repo_names,
)

QUIET_PREFECT = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
CONFIGURATION_ERRORS = (ConfigError, WarehouseError, AllTokensInvalid)
"""Exit 2: nothing the next run can fix unless the user changes something."""


@dataclasses.dataclass(frozen=True)
class Targets:
    """What a run syncs, into which file, with which tokens (the flow's other parameters)."""

    repos: list[str] = dataclasses.field(default_factory=list)
    orgs: list[str] = dataclasses.field(default_factory=list)
    db: str | None = None
    """A DuckDB file or a DuckLake location (None: GHSYNC_DB)."""
    token_secret: str | None = None
    """The Prefect Secret block of the tokens (None: GITHUB_TOKENS / GITHUB_TOKEN)."""


def run_sync(targets: Targets, options: SyncOptions, *, verbose: bool = False) -> int:
    """Run `sync_repos` once, showing its progress and printing what it did; the exit code."""

    def check() -> None:  # before a Prefect server starts or GitHub is asked
        validate_repo_names(targets.repos)
        settings = Settings()
        if targets.token_secret is None:
            tokens_from_settings(settings)
        app_key(settings)  # a GitHub App's key is there and readable
        check_writable(parse_location(targets.db) if targets.db else settings.location)

    return run_flow("sync", targets, options, check, verbose=verbose)


def run_flow(
    command: str,
    targets: Targets,
    options: SyncOptions,
    check: Callable[[], None],
    *,
    verbose: bool,
) -> int:
    """Check, then run `sync_repos` with the display; print the outcome. The log file (none
    with `verbose`) is named after `command`."""
    started = time.monotonic()
    quiet_prefect()
    display = display_for(Console(stderr=True))
    log_file = None if verbose else new_log_file(prefect_home() / "logs", command)

    def before_exit() -> None:
        display.stop(keep=True)
        kill_all()

    interrupts = Interrupts(before_exit).install()
    display.start()
    try:
        check()
        _start_prefect(display, log_file)
        display.status("checking the repositories")
        with listening(display):
            interrupts.run(lambda: _sync(targets, options))
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


async def _sync(targets: Targets, options: SyncOptions) -> None:
    from flows.sync import sync_repos  # Prefect reads PREFECT_API_URL when imported

    parameters = dataclasses.asdict(options)
    await sync_repos(
        targets.repos, targets.orgs, db=targets.db, token_secret=targets.token_secret, **parameters
    )


def prefect_home() -> Path:
    """PREFECT_HOME as Prefect will read it (known before Prefect is imported)."""
    return Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()


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
    """One line per repository, then the total."""
    outcomes = display.outcomes_in_order()
    for outcome in outcomes:
        typer.echo(outcome_line(outcome))
    spent, seconds = display.spent, time.monotonic() - started
    typer.echo(total_line(outcomes, spent.points, spent.requests, seconds))
    if log_file is not None and log_file.exists():
        typer.echo(f"Prefect's log of this run: {log_file}")
