"""`ghsync ...`: the command line (typer). The only place that calls asyncio.run."""

from __future__ import annotations

import asyncio

import typer

from ghsync.config import Settings
from ghsync.emulator_cli import emulator_app, run_demo
from ghsync.errors import ConfigError
from ghsync.github.client import check_tokens
from ghsync.github.tokens import TokenState, tokens_from_settings

app = typer.Typer(
    name="ghsync",
    help="Sync GitHub pull-request data into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(emulator_app, name="emulator")


@app.command()
def demo() -> None:
    """Start the local GitHub emulator and show the dataset it serves (offline)."""
    run_demo()


@app.command("tokens")
def tokens_command() -> None:
    """Check each token (GITHUB_TOKENS / GITHUB_TOKEN): account, points left, reset, state.

    Tokens are shown masked. Exits 1 when no token is usable right now, 2 when none is set.
    """
    settings = Settings()
    try:
        tokens = tokens_from_settings(settings)
    except ConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    statuses = asyncio.run(check_tokens(tokens, settings.github_graphql_url))
    for status in statuses:
        typer.echo(status.line())
    if not any(status.state is TokenState.READY for status in statuses):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
