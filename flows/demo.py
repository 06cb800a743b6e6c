"""`ghsync demo`: a real sync of the emulator's sample org, offline, then example analytics.

Starts the emulator (three tokens, an org of three repositories of 120 PRs plus an empty and
an archived one), runs the sync flow into warehouse/demo.duckdb on a temporary Prefect server,
as `ghsync sync` does (progress, Ctrl-C, exit codes), the run writing the HTML report to
warehouse/demo-report.html, and prints the run's outcome, the example questions of
warehouse/examples/ with answers, and where the report is.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import typer

from flows.run import Targets, run_flow
from ghsync import SyncOptions, Warehouse, list_examples
from ghsync.emulator import EmulatorConfig, running_emulator
from ghsync.emulator_cli import DEMO_TOKENS

DEMO_DB = Path("warehouse/demo.duckdb")
DEMO_REPORT = Path("warehouse/demo-report.html")


def run_demo(db: Path = DEMO_DB, report: Path = DEMO_REPORT, *, verbose: bool = False) -> int:
    """Sync the emulator's org into `db` (made anew), the run writing its HTML `report`
    (GHSYNC_REPORT), and print example analytics; the exit code of the sync."""
    config = EmulatorConfig(seed=7, repos=3, prs=120, tokens=DEMO_TOKENS)
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    with running_emulator(config) as emulator:
        typer.echo(f"GitHub emulator on {emulator.url}: org acme, 3 tokens; syncing into {db}")
        os.environ["GITHUB_TOKENS"] = ",".join(DEMO_TOKENS)  # the CLI is the edge
        os.environ["GITHUB_GRAPHQL_URL"] = emulator.graphql_url
        os.environ["GHSYNC_REPORT"] = str(report)
        targets, options = Targets(orgs=["acme"], db=str(db)), SyncOptions(days_back=None)
        code = run_flow("demo", targets, options, lambda: None, verbose=verbose)
        stats = emulator.stats()
    if code != 0:
        return code
    typer.echo(
        f"GitHub saw {stats['counters'].get('graphql_requests', 0)} requests costing "
        f"{stats['points_total']} points (GitHub's formula)."
    )
    with (
        Warehouse.open(db, read_only=True) as warehouse,
        pl.Config(
            tbl_rows=12,
            tbl_cols=-1,
            tbl_width_chars=160,
            tbl_hide_dataframe_shape=True,
            tbl_hide_column_data_types=True,
        ),
    ):
        for example in list_examples():
            typer.echo(f"\n{example.question}")
            typer.echo(warehouse.query(example.sql))
    typer.echo(f"\nThe team's trends, as a page to open in a browser: {report}")
    typer.echo(f'Ask your own: .venv/bin/ghsync sql --db {db} "SELECT * FROM pr_metrics LIMIT 5"')
    return 0
