"""`ghsync ...`: the command line (typer). The only place that calls asyncio.run."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from ghsync.config import DEFAULT_OPTIONS, Settings, SyncOptions
from ghsync.emulator_cli import emulator_app
from ghsync.errors import (
    ConfigError,
    DatabaseCorrupt,
    DatabasePathError,
    GhsyncError,
    WarehouseError,
)
from ghsync.filelock import anyone_present, runs_path
from ghsync.github.apps import app_credentials
from ghsync.github.client import check_tokens
from ghsync.github.credentials import Credential
from ghsync.github.tokens import TokenState, TokenStatus, tokens_from_settings
from ghsync.lake import Lake, Location, parse_location
from ghsync.report import DEFAULT_WEEKS, write_report
from ghsync.warehouse import Warehouse
from ghsync.webhooks import MAX_BODY_BYTES
from ghsync.writer import reading

REPORT_OUT = Path("report.html")
DB_HELP = "Warehouse: a DuckDB file, or a DuckLake location (ducklake:...) [default: GHSYNC_DB]."

app = typer.Typer(
    name="ghsync",
    help="Sync GitHub pull-request data into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # a docstring's lines reflow to the terminal's width
)
app.add_typer(emulator_app, name="emulator")


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"ghsync {version('ghsync')}")
        raise typer.Exit


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version."
        ),
    ] = False,
) -> None:
    pass  # the options of `ghsync` itself; help from `app`


VERBOSE_HELP = "Prefect's log lines on the terminal (not in a log file), tracebacks of errors."


@app.command()
def demo(verbose: Annotated[bool, typer.Option("--verbose", help=VERBOSE_HELP)] = False) -> None:
    """Offline: start the GitHub emulator, sync its sample org, print example analytics."""
    from flows.demo import run_demo  # the CLI is the edge: only `sync` and `demo` load Prefect

    raise typer.Exit(run_demo(verbose=verbose))


@app.command("sync")
def sync_command(
    repos: Annotated[list[str] | None, typer.Argument(help="OWNER/REPO ...")] = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Also every non-archived repo of ORG.")
    ] = None,
    db: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
    days_back: Annotated[
        int | None, typer.Option(help="Depth of a repository's first sync, in days.")
    ] = DEFAULT_OPTIONS.days_back,
    full: Annotated[bool, typer.Option("--full", help="Re-fetch everything (a repair).")] = False,
    concurrency_per_token: Annotated[
        int, typer.Option(help="Requests in flight per token.")
    ] = DEFAULT_OPTIONS.concurrency_per_token,
    page_size: Annotated[
        int, typer.Option(help="PRs per page (1-100).", min=1, max=100)
    ] = DEFAULT_OPTIONS.page_size,
    ci_recheck_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="Re-poll the CI of open PRs updated this many days back (re-runs of finished "
            "checks do not move a PR's updatedAt); 0: only CI not settled when fetched.",
        ),
    ] = DEFAULT_OPTIONS.ci_recheck_days,
    checkpoints: Annotated[
        bool,
        typer.Option(
            help="Persist fetched pages under PREFECT_HOME, so an interrupted run resumes "
            "without asking GitHub again (--no-checkpoints: PR bodies, commit messages and "
            "e-mails are never written there).",
        ),
    ] = DEFAULT_OPTIONS.checkpoints,
    token_secret: Annotated[
        str | None,
        typer.Option(help="Read the tokens from this Prefect Secret block, as a deployment does."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help=VERBOSE_HELP)] = False,
) -> None:
    """Sync pull requests into the warehouse (runs the Prefect flow in this process).

    Shows progress on stderr (live on a terminal); Ctrl-C stops it, and the same command
    resumes. Exits 0 when every repository synced, 1 when some failed (after syncing all it
    could), 2 on bad configuration or input (names, tokens, database file, URLs), 130 when
    interrupted.
    """
    if not repos and not org:
        typer.echo("error: name at least one OWNER/REPO or --org ORG", err=True)
        raise typer.Exit(2)
    try:
        options = SyncOptions(
            days_back=None if full else days_back,
            full=full,
            concurrency_per_token=concurrency_per_token,
            page_size=page_size,
            ci_recheck_days=ci_recheck_days,
            checkpoints=checkpoints,
        )
    except ConfigError as error:
        raise _bad_input(str(error)) from error
    # the CLI is the edge: only `sync` and `demo` load Prefect
    from flows.run import Targets, run_sync

    targets = Targets(repos or [], org or [], db, token_secret)
    raise typer.Exit(run_sync(targets, options, verbose=verbose))


webhook_app = typer.Typer(
    help="GitHub's webhooks: a receiver that starts syncs.", no_args_is_help=True
)
app.add_typer(webhook_app, name="webhook")


@webhook_app.command("serve")
def webhook_serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    secret_block: Annotated[
        str | None,
        typer.Option(help="Read the secret from this Prefect Secret block (else the env)."),
    ] = None,
    max_body: Annotated[
        int, typer.Option(help="Refuse deliveries over this many bytes.", min=1024)
    ] = MAX_BODY_BYTES,
) -> None:
    """Receive GitHub's webhook deliveries on POST /webhook and emit a Prefect event for each
    change (the `on-github-event` deployment syncs its repository).

    Verifies X-Hub-Signature-256 with GITHUB_WEBHOOK_SECRET (or --secret-block) and emits into
    the Prefect server of PREFECT_API_URL. GET /health answers a load balancer. Exits 2 when
    the secret or the server is missing; Ctrl-C or SIGTERM stops it.
    """
    from flows.webhook import serve  # the CLI is the edge: Prefect only on this path

    try:
        serve(host, port, secret_block, max_body, lambda line: typer.echo(line, err=True))
    except ConfigError as error:
        raise _bad_input(str(error)) from error
    except OSError as error:  # the port is taken, or the interface unknown
        raise _bad_input(f"cannot listen on {host}:{port}: {error.strerror or error}") from error


@app.command("status")
def status_command(
    db: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Only this OWNER/REPO (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, for scripts.")] = False,
) -> None:
    """Per repository: how its last run ended (synced, unchanged, failed and why, interrupted,
    not found) and when, watermark, history depth, open session, CI to fetch or still running,
    rows (from the warehouse)."""
    path = _location(db)
    # A file's live syncs hold its presence lock; a DuckLake's syncs run on any machine: a
    # repository `running` there is shown as such (killed runs too, until the next run).
    live = isinstance(path, Lake) or anyone_present(runs_path(path))
    try:
        with _reading(path) as warehouse:
            result = warehouse.status(repo or [], live=live)
    except WarehouseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(result.write_ndjson(), nl=False)
        return
    _print_table(result)


@app.command("tokens")
def tokens_command(
    token_secret: Annotated[
        str | None,
        typer.Option(help="Read the tokens from this Prefect Secret block, as a deployment does."),
    ] = None,
) -> None:
    """Check each credential (GITHUB_TOKENS / GITHUB_TOKEN, a GitHub App's installations):
    kind, account, points left, reset, token expiry, state.

    Tokens of one account are listed together: they share its one budget (an app installation
    has its own). Secrets are never shown. Exits 1 when none is usable right now, 2 when none
    is set.
    """
    settings = Settings()
    try:
        tokens = _secret_tokens(token_secret) if token_secret else tokens_from_settings(settings)
        installations = asyncio.run(app_credentials(settings))
        credentials: list[Credential | str] = [*tokens, *installations]
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    except GhsyncError as error:  # the app's installations could not be listed now
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    statuses = asyncio.run(check_tokens(credentials, settings.github_graphql_url))
    for line in _aligned(_by_account(statuses)):
        typer.echo(line)
    if not any(status.state is TokenState.READY for status in statuses):
        raise typer.Exit(1)


def _by_account(statuses: list[TokenStatus]) -> list[tuple[str, ...] | str]:
    """The header, each token's row, the tokens of one account together, each account of
    several tokens followed by a note: GitHub gives a user one budget, however many tokens the
    user has."""
    accounts: dict[str | int, list[TokenStatus]] = {}
    for index, status in enumerate(statuses):  # one GitHub did not identify: its own account
        accounts.setdefault(status.account or index, []).append(status)
    rows: list[tuple[str, ...] | str] = [TokenStatus.HEADER]
    for members in accounts.values():
        rows += [member.cells() for member in members]
        if len(members) > 1:
            login = members[0].login
            note = f"{len(members)} tokens share account {login}'s budget: no extra capacity"
            rows.append(f"  {note}")
    return rows


def _aligned(rows: list[tuple[str, ...] | str]) -> list[str]:
    """Rows of cells as lines, each column as wide as its widest cell; a str row as it is."""
    tables = [row for row in rows if not isinstance(row, str)]
    widths = [max(len(cells[i]) for cells in tables) for i in range(len(tables[0]))]
    return [
        row
        if isinstance(row, str)
        else "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _secret_tokens(name: str) -> list[str]:
    from flows.secrets import secret_tokens  # the CLI is the edge: Prefect only when asked

    return asyncio.run(secret_tokens(name))


@app.command("sql", context_settings={"ignore_unknown_options": True})
def sql_command(
    query: Annotated[
        str | None,
        typer.Argument(
            help='SQL, e.g. "SELECT * FROM pr_metrics LIMIT 10"; - reads it from stdin.',
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        typer.FileText | None,
        typer.Option("-f", "--file", help="Read the SQL from FILE (- for stdin)."),
    ] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    db: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
) -> None:
    """Run SQL against the warehouse (opened read-only) and print each statement's result.

    Statements run in order, each result printed before the next one runs. A query that
    begins with a `--` comment is SQL, not an option. CSV writes lists and structs as JSON.
    """
    sql = _sql_text(query, file)
    path = _location(db)
    try:
        with _reading(path) as warehouse:
            statements = warehouse.statements(sql)
            if not statements:
                raise _bad_input("no SQL statement in the input (only comments?)")
            printed = False
            for statement in statements:
                result = warehouse.query(statement)
                if result.width == 0:  # SET, PRAGMA ...: no result to print
                    continue
                if printed:
                    typer.echo()
                if csv:
                    _print_csv(result)
                else:
                    _print_table(result)
                printed = True
    except WarehouseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error


@app.command("report")
def report_command(
    db: Annotated[str | None, typer.Option(help=DB_HELP, show_default=False)] = None,
    repo: Annotated[
        list[str] | None, typer.Option("--repo", help="Only this OWNER/REPO (repeatable).")
    ] = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Only the repositories of ORG (repeatable).")
    ] = None,
    weeks: Annotated[
        int, typer.Option("--weeks", min=1, help="The ISO weeks shown, ending with this one.")
    ] = DEFAULT_WEEKS,
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = REPORT_OUT,
) -> None:
    """Write one self-contained HTML page of the team's trends over the last weeks, per
    repository and for all together: PRs opened and merged, cycle time, time to first review,
    PRs waiting for review, review load, CI failures and flaky checks, AI-assisted share, and
    how fresh the data is. The warehouse is opened read-only; every figure is a query of
    warehouse/report/."""
    path = _location(db)
    try:
        write_report(
            path,
            out,
            repos=repo or [],
            orgs=org or [],
            weeks=weeks,
            now=datetime.now(UTC),
            on_wait=_waiting_message(path),
        )
    except (ConfigError, DatabasePathError, DatabaseCorrupt) as error:  # no such warehouse
        raise _bad_input(str(error)) from error
    except WarehouseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    except OSError as error:  # the output cannot be written
        raise _bad_input(f"cannot write {out}: {error.strerror or error}") from error
    typer.echo(f"wrote {out}")


def _sql_text(query: str | None, file: typer.FileText | None) -> str:
    """The SQL to run: the argument, stdin for `-`, or the file of `-f`."""
    if query is not None and file is not None:
        raise _bad_input("give the SQL either as an argument or with -f, not both")
    if file is not None:
        return file.read()
    if query is None:
        raise _bad_input("give SQL, - (read it from stdin) or -f FILE")
    if query == "-":
        return typer.get_text_stream("stdin").read()
    if query.startswith("-") and not any(char.isspace() for char in query):
        raise _bad_input(f"no such option: {query} (see ghsync sql --help)")  # not SQL
    return query


def _bad_input(message: str) -> typer.Exit:
    """Say what is wrong with the input; the exit (2) to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _location(db: str | None) -> Location:
    """The warehouse of `--db`, else of GHSYNC_DB (exit 2 when it is not a usable one)."""
    try:
        return parse_location(db) if db is not None else Settings().location
    except ConfigError as error:
        raise _bad_input(str(error)) from error


def _reading(path: Location) -> AbstractContextManager[Warehouse]:
    """The warehouse opened read-only, after the sync writing it hands it back (said once)."""
    return reading(path, _waiting_message(path))


def _waiting_message(path: Location) -> Callable[[], None]:
    def waiting() -> None:
        typer.echo(f"waiting for the sync writing {path} ...", err=True)

    return waiting


def _print_table(result: pl.DataFrame) -> None:
    """Every row; on a terminal (or with COLUMNS set) as wide as it is, polars wrapping the
    cells and showing as many columns as fit (`…` for the others), strings cut at 50."""
    width = shutil.get_terminal_size((0, 0)).columns  # 0: not a terminal, no COLUMNS
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=max(2, width // 12) if width else -1,
        tbl_width_chars=width or 250,
        fmt_str_lengths=50,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        typer.echo(result)


def _print_csv(result: pl.DataFrame) -> None:
    """CSV has no nested values: lists, arrays and structs are written as JSON."""
    nested = [name for name, dtype in result.schema.items() if dtype.is_nested()]
    as_json = (
        pl.struct(pl.col(name).alias("v")).struct.json_encode().str.json_path_match("$.v")
        for name in nested
    )
    frame = result.with_columns(
        column.alias(name) for column, name in zip(as_json, nested, strict=True)
    )
    typer.echo(frame.write_csv(), nl=False)


if __name__ == "__main__":
    app()
