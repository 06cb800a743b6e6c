"""`ghsync ...`: the command line (typer). The only place that calls asyncio.run."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from ghsync.config import Settings
from ghsync.emulator_cli import emulator_app
from ghsync.errors import ConfigError, WarehouseError
from ghsync.github.client import check_tokens
from ghsync.github.tokens import TokenState, TokenStatus, parse_tokens, tokens_from_settings
from ghsync.sql_files import read_statement
from ghsync.warehouse import Warehouse
from ghsync.writer import reading

app = typer.Typer(
    name="ghsync",
    help="Sync GitHub pull-request data into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(emulator_app, name="emulator")


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
    db: Annotated[Path | None, typer.Option(help="Warehouse file [default: GHSYNC_DB].")] = None,
    days_back: Annotated[
        int | None, typer.Option(help="Depth of a repository's first sync, in days.")
    ] = 30,
    full: Annotated[bool, typer.Option("--full", help="Re-fetch everything (a repair).")] = False,
    concurrency_per_token: Annotated[int, typer.Option(help="Requests in flight per token.")] = 2,
    page_size: Annotated[int, typer.Option(help="PRs per page (1-100).", min=1, max=100)] = 50,
    ci_recheck_days: Annotated[
        int,
        typer.Option(
            min=0,
            help="Re-poll the CI of open PRs updated this many days back (re-runs of finished "
            "checks do not move a PR's updatedAt); 0: only CI not settled when fetched.",
        ),
    ] = 3,
    checkpoints: Annotated[
        bool,
        typer.Option(
            help="Persist fetched pages under PREFECT_HOME, so an interrupted run resumes "
            "without asking GitHub again (--no-checkpoints: PR bodies, commit messages and "
            "e-mails are never written there).",
        ),
    ] = True,
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
    from flows.run import run_sync  # the CLI is the edge: only `sync` and `demo` load Prefect

    raise typer.Exit(
        run_sync(
            repos or [],
            org or [],
            db=db,
            days_back=None if full else days_back,
            full=full,
            concurrency_per_token=concurrency_per_token,
            page_size=page_size,
            ci_recheck_days=ci_recheck_days,
            checkpoints=checkpoints,
            token_secret=token_secret,
            verbose=verbose,
        )
    )


@app.command("status")
def status_command(
    db: Annotated[Path | None, typer.Option(help="Warehouse file [default: GHSYNC_DB].")] = None,
) -> None:
    """Per repository: watermark, last sync, state, rows, pending work (from the warehouse)."""
    path = db if db is not None else Settings().db_path
    try:
        with _reading(path) as warehouse:
            result = warehouse.query(read_statement("status"))
    except WarehouseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    _print_table(result)


@app.command("tokens")
def tokens_command(
    token_secret: Annotated[
        str | None,
        typer.Option(help="Read the tokens from this Prefect Secret block, as a deployment does."),
    ] = None,
) -> None:
    """Check each token (GITHUB_TOKENS / GITHUB_TOKEN): account, points left, reset, state.

    Tokens of one account are listed together: they share its one budget. Tokens are shown
    masked. Exits 1 when no token is usable right now, 2 when none is set.
    """
    settings = Settings()
    try:
        tokens = _secret_tokens(token_secret) if token_secret else tokens_from_settings(settings)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    statuses = asyncio.run(check_tokens(tokens, settings.github_graphql_url))
    for line in _by_account(statuses):
        typer.echo(line)
    if not any(status.state is TokenState.READY for status in statuses):
        raise typer.Exit(1)


def _by_account(statuses: list[TokenStatus]) -> list[str]:
    """Each token's line, the tokens of one account together, each account of several tokens
    followed by a note: GitHub gives a user one budget, however many tokens the user has."""
    accounts: dict[str | int, list[TokenStatus]] = {}
    for index, status in enumerate(statuses):  # one GitHub did not identify: its own account
        accounts.setdefault(status.login or index, []).append(status)
    lines = []
    for login, members in accounts.items():
        lines += [member.line() for member in members]
        if len(members) > 1:
            note = f"{len(members)} tokens share account {login}'s budget: no extra capacity"
            lines.append(f"  {note}")
    return lines


def _secret_tokens(name: str) -> list[str]:
    from prefect.blocks.system import Secret  # the CLI is the edge: Prefect only when asked

    secret: Secret[str] = asyncio.run(Secret.aload(name))
    return parse_tokens(str(secret.get()), None)


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help='e.g. "SELECT * FROM pr_metrics LIMIT 10"')],
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    db: Annotated[Path | None, typer.Option(help="Warehouse file [default: GHSYNC_DB].")] = None,
) -> None:
    """Run SQL against the warehouse (opened read-only) and print the result."""
    path = db if db is not None else Settings().db_path
    try:
        with _reading(path) as warehouse:
            result = warehouse.query(query)
    except WarehouseError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    if csv:
        typer.echo(_lists_as_text(result).write_csv(), nl=False)
        return
    _print_table(result)


def _reading(path: Path) -> AbstractContextManager[Warehouse]:
    """The warehouse opened read-only, after the sync writing it hands it back (said once)."""

    def waiting() -> None:
        typer.echo(f"waiting for the sync writing {path} ...", err=True)

    return reading(path, waiting)


def _print_table(result: pl.DataFrame) -> None:
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=250,
        fmt_str_lengths=80,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
    ):
        typer.echo(result)


def _lists_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no lists: write them as DuckDB prints them, `[a, b]`."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    as_text = pl.element().cast(pl.String)
    return frame.with_columns(
        pl.format("[{}]", pl.col(name).list.eval(as_text).list.join(", ")).alias(name)
        for name in lists
    )


if __name__ == "__main__":
    app()
