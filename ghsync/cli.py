"""`ghsync ...`: the command line (typer). The only place that calls asyncio.run."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ghsync",
    help="Sync GitHub pull-request data into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
)
emulator_app = typer.Typer(help="A local GitHub API emulator for tests, demos and benchmarks.")
app.add_typer(emulator_app, name="emulator")


if __name__ == "__main__":
    app()
