"""`ghsync ...`: the command line (typer). The only place that calls asyncio.run."""

from __future__ import annotations

import typer

from ghsync.emulator_cli import emulator_app, run_demo

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


if __name__ == "__main__":
    app()
