"""`ghsync sql`: a query's result as a table or CSV; clear errors for a bad file or query."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import page, pr

QUERY = "SELECT number, title, labels FROM pull_requests ORDER BY number"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ghsync.duckdb"
    with Warehouse.open(path) as warehouse:
        warehouse.upsert_page(page([pr(1, labels=["bug"]), pr(2, title="Second, with comma")]))
    return path


def test_csv_output(db: Path) -> None:
    result = CliRunner().invoke(app, ["sql", QUERY, "--csv", "--db", str(db)])
    assert result.exit_code == 0, result.output
    # a list as DuckDB prints it; a comma inside a value is quoted
    assert result.stdout.splitlines() == [
        "number,title,labels",
        "1,PR 1,[bug]",
        '2,"Second, with comma",[]',
    ]


def test_table_output_uses_ghsync_db_by_default(db: Path) -> None:
    result = CliRunner().invoke(app, ["sql", QUERY], env={"GHSYNC_DB": str(db)})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("number" in line and "title" in line for line in lines)
    assert any("Second, with comma" in line for line in lines)
    assert not any("shape:" in line for line in lines)


@pytest.mark.parametrize(
    ("query", "database", "message"),
    [
        ("SELECT 1", "absent.duckdb", "absent.duckdb"),
        ("SELECT * FROM nope", "ghsync.duckdb", "nope"),
        ("DELETE FROM pull_requests", "ghsync.duckdb", "read-only"),
    ],
    ids=["missing-file", "bad-query", "writes-are-refused"],
)
def test_errors_exit_1_with_the_path(db: Path, query: str, database: str, message: str) -> None:
    path = db.parent / database
    result = CliRunner().invoke(app, ["sql", query, "--db", str(path)])
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert message in result.stderr
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.query("SELECT count(*) FROM pull_requests").item() == 2
