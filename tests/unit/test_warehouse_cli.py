"""`ghsync sql`: SQL from an argument, a file or stdin, statement by statement, as a table that
fits the terminal or as CSV; clear errors for a bad file, query or input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ghsync.cli import app
from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import page, pr

QUERY = "SELECT number, title, labels FROM pull_requests ORDER BY number"
EXAMPLES = Path(__file__).parents[2] / "warehouse" / "examples"
SEVERAL = "-- two questions\nSELECT 41 + 1 AS answer;\n\nSET threads = 1;\nSELECT 'b' AS second;\n"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ghsync.duckdb"
    with Warehouse.open(path) as warehouse:
        warehouse.upsert_page(page([pr(1, labels=["bug"]), pr(2, title="Second, with comma")]))
    return path


def sql(db: Path, *args: str, stdin: str | None = None, columns: int = 250) -> Result:
    env = {"COLUMNS": str(columns)}  # the terminal's width, as a terminal sets it
    return CliRunner().invoke(app, ["sql", "--db", str(db), *args], input=stdin, env=env)


def test_csv_output_writes_lists_as_json(db: Path) -> None:
    result = sql(db, QUERY, "--csv")
    assert result.exit_code == 0, result.output
    # a comma or quote inside a value is quoted
    assert result.stdout.splitlines() == [
        "number,title,labels",
        '1,PR 1,"[""bug""]"',
        '2,"Second, with comma",[]',
    ]


def test_table_output_uses_ghsync_db_by_default(db: Path) -> None:
    result = CliRunner().invoke(app, ["sql", QUERY], env={"GHSYNC_DB": str(db), "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("number" in line and "title" in line for line in lines)
    assert any("Second, with comma" in line for line in lines)
    assert not any("shape:" in line for line in lines)


@pytest.mark.parametrize("source", ["file", "stdin", "file-stdin", "argument"])
def test_several_statements_from_any_source_print_each_result_in_order(
    db: Path, tmp_path: Path, source: str
) -> None:
    script = tmp_path / "two.sql"
    script.write_text(SEVERAL)
    args, stdin = {
        "file": (["-f", str(script)], None),
        "stdin": (["-"], SEVERAL),
        "file-stdin": (["-f", "-"], SEVERAL),
        "argument": ([SEVERAL], None),  # begins with `--`: SQL, not an option
    }[source]
    result = sql(db, *args, "--csv", stdin=stdin)
    assert result.exit_code == 0, result.output
    assert result.stdout == "answer\n42\n\nsecond\nb\n"


def test_an_example_file_answers(db: Path) -> None:
    result = sql(db, "-f", str(EXAMPLES / "02_weekly_merge_speed.sql"), "--csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "repo,iso_week,prs_opened,prs_merged,median_cycle_h,p90_cycle_h,median_first_review_h",
        "acme/app,2025-W02,2,0,,,",
    ]


def test_a_wide_table_fits_a_narrow_terminal(db: Path) -> None:
    wide = "SELECT *, repeat('long text ', 30) AS long_text FROM pull_requests ORDER BY number"
    result = sql(db, wide, columns=60)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert "long text " * 30 not in "".join(lines)  # long strings are cut
    assert "…" in result.stdout


def test_a_failing_statement_stops_the_run_after_the_results_before_it(db: Path) -> None:
    result = sql(db, "SELECT 1 AS first; SELECT * FROM nope; SELECT 3 AS third", "--csv")
    assert result.exit_code == 1
    assert result.stdout == "first\n1\n"
    assert "nope" in result.stderr and str(db) in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give SQL"),
        (["SELECT 1", "-f", "-"], "either"),
        (["-f", "absent.sql"], "absent.sql"),
        (["-- nothing but a comment"], "no SQL statement"),
        (["--cvs"], "no such option: --cvs"),  # a mistyped option is no query
    ],
    ids=["nothing", "both", "missing-file", "only-a-comment", "unknown-option"],
)
def test_bad_input_exits_2(db: Path, args: list[str], message: str) -> None:
    result = sql(db, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


@pytest.mark.parametrize(
    ("query", "database", "message"),
    [
        ("SELECT 1", "absent.duckdb", "absent.duckdb"),
        ("SELECT * FROM nope", "ghsync.duckdb", "nope"),
        ("DELETE FROM pull_requests", "ghsync.duckdb", "read-only"),
        ("SELECT 1; SELEC 2", "ghsync.duckdb", "SELEC"),
    ],
    ids=["missing-file", "bad-query", "writes-are-refused", "syntax-error"],
)
def test_errors_exit_1_with_the_path(db: Path, query: str, database: str, message: str) -> None:
    path = db.parent / database
    result = CliRunner().invoke(app, ["sql", query, "--db", str(path)])
    assert result.exit_code == 1
    assert str(path) in result.stderr
    assert message in result.stderr
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.query("SELECT count(*) FROM pull_requests").item() == 2
