"""The DuckDB shell installed with ghsync (package duckdb-cli, `.venv/bin/duckdb`) opens a
warehouse that ghsync's loader wrote and answers an example question as `ghsync sql` does:
the shell and the Python package are one DuckDB version line, one storage format."""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import at, page, pr, review

SHELL = Path(sysconfig.get_path("scripts")) / "duckdb"
EXAMPLE = Path(__file__).parents[2] / "warehouse" / "examples" / "02_weekly_merge_speed.sql"


def test_the_shell_opens_the_warehouse_and_answers_an_example(tmp_path: Path) -> None:
    path = tmp_path / "ghsync.duckdb"
    merged = [pr(n, state="MERGED", closed_at=at(h), merged_at=at(h)) for n, h in ((1, 2), (2, 4))]
    with Warehouse.open(path) as warehouse:
        warehouse.upsert_page(page([*merged, pr(3)], reviews=[review(1, "bob", "APPROVED", at(1))]))
    with EXAMPLE.open() as sql:
        shell = subprocess.run(
            [SHELL, "-readonly", "-csv", path],
            stdin=sql,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines() == [
        "repo,iso_week,prs_opened,prs_merged,median_cycle_h,p90_cycle_h,median_first_review_h",
        "acme/app,2025-W02,3,2,3.0,3.8,1.0",
    ]
    ghsync = CliRunner().invoke(app, ["sql", "--csv", "--db", str(path), "-f", str(EXAMPLE)])
    assert ghsync.stdout == shell.stdout
