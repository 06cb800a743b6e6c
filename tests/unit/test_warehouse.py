"""Warehouse loads: idempotent re-loads, replaced child sets, atomic pages, sync state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from unittest.mock import ANY

import duckdb
import polars as pl
import pytest

from ghsync.ci import PendingCheck
from ghsync.errors import WarehouseError
from ghsync.frames import CHILD_SCHEMAS, PULL_REQUESTS, REPOSITORIES, empty_frame
from ghsync.lake import Location
from ghsync.sql_files import list_migrations, read_statement
from ghsync.state import RepoStatus
from ghsync.tables import PR_TABLES
from ghsync.warehouse import SyncState, Warehouse
from tests.unit.warehouse_rows import REPO, at, check_run, commit, file, page, pr, review, status

TABLES = [
    "repositories",
    "pull_requests",
    "pr_reviews",
    "pr_commits",
    "pr_files",
    "check_runs",
    "commit_statuses",
    "sync_state",
]

# DESIGN.md's table contract: these names must exist (more columns are allowed).
CONTRACT = {
    "repositories": "repo repo_id is_archived pushed_at synced_at",
    "pull_requests": "repo number pr_id title body state is_draft author_login author_type "
    "created_at updated_at closed_at merged_at additions deletions changed_files base_ref "
    "head_ref head_sha milestone labels assignees linked_issues requested_reviewers",
    "pr_reviews": "repo number review_id state author_login submitted_at",
    "pr_commits": "repo number sha author_login author_email authored_at committed_at message",
    "pr_files": "repo number path additions deletions change_type",
    "check_runs": "repo number head_sha check_run_id app name status conclusion started_at "
    "completed_at",
    "commit_statuses": "repo number head_sha context state created_at",
    "sync_state": "repo watermark last_synced_at",
}


@pytest.fixture
def warehouse(location: Location) -> Iterator[Warehouse]:
    """A new warehouse in each store."""
    with Warehouse.open(location) as warehouse:
        yield warehouse


def snapshot(warehouse: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, sorted, so two states can be compared exactly."""
    return {t: sorted(warehouse.query(f"SELECT * FROM {t}").rows(), key=repr) for t in TABLES}


def first_page() -> tuple:
    return page(
        [pr(1, labels=["bug", "ui"], assignees=["bob"]), pr(2, labels=["docs"])],
        reviews=[review(1, "bob", "APPROVED", at(2))],
        commits=[commit(1, "c1", at(-3)), commit(2, "c2", at(-1))],
        files=[file(1, "a.py"), file(1, "b.py"), file(2, "README.md")],
        check_runs=[check_run(1, 10, "test", "SUCCESS")],
        statuses=[status(1, "ci/legacy", "SUCCESS")],
    )


def test_migrate_creates_the_contract_tables_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse.open(path) as warehouse:
        columns = warehouse.query(
            "SELECT table_name, list(column_name) AS names FROM information_schema.columns "
            "GROUP BY table_name"
        )
    found = {row["table_name"]: set(row["names"]) for row in columns.to_dicts()}
    for table, names in CONTRACT.items():
        assert set(names.split()) <= found[table], table
    with Warehouse.open(path) as warehouse:
        assert warehouse.migrate() == []
        applied = warehouse.query("SELECT version FROM schema_migrations ORDER BY version")
        assert applied["version"].to_list() == [m.version for m in list_migrations()]


def test_migration_004_keeps_the_sync_states_of_a_warehouse_made_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as connection:  # a warehouse of migrations 001-003
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(read_statement("bootstrap"))
        for migration in list_migrations()[:3]:
            connection.execute(migration.sql)
            version = {"version": migration.version, "name": migration.name}
            connection.execute(read_statement("record_migration"), version)
        connection.execute(
            "INSERT INTO sync_state (repo, watermark, status, cursor, page_size) "
            "VALUES ('acme/app', ?, 'synced', 'c9', 21)",
            [at(5)],
        )
    with Warehouse.open(path) as warehouse:
        state = warehouse.read_sync_state("acme/app")
        assert state is not None
        assert (state.watermark, state.status, state.cursor, state.page_size) == (
            at(5),
            "synced",
            "c9",
            21,
        )
        warehouse.record_outcome("acme/app", RepoStatus.FAILED, "timed out")
        assert warehouse.read_sync_state("acme/app") == replace(
            state, status="failed", error="timed out", outcome_at=ANY
        )


@pytest.mark.parametrize(
    ("table", "schema"),
    [("pull_requests", PULL_REQUESTS), ("repositories", REPOSITORIES), *CHILD_SCHEMAS.items()],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_frame_schemas_match_table_columns(
    warehouse: Warehouse, table: str, schema: pl.Schema
) -> None:
    stored = warehouse.query(f"SELECT * FROM {table} LIMIT 0").schema
    assert stored == schema


def test_reloading_the_same_page_changes_nothing(warehouse: Warehouse) -> None:
    warehouse.upsert_page(first_page())
    once = snapshot(warehouse)
    warehouse.upsert_page(first_page())
    assert snapshot(warehouse) == once
    assert len(once["pull_requests"]) == 2
    assert len(once["pr_files"]) == 3


def test_a_pr_that_lost_a_label_and_a_file_loses_them(warehouse: Warehouse) -> None:
    warehouse.upsert_page(first_page())
    newer = page(
        [pr(1, labels=["ui"], updated_at=at(5))],
        files=[file(1, "b.py")],
        check_runs=[],
        statuses=[],
    )
    warehouse.upsert_page(newer)
    labels = warehouse.query("SELECT number, labels FROM pull_requests ORDER BY number")
    assert labels.rows() == [(1, ["ui"]), (2, ["docs"])]
    files = warehouse.query("SELECT number, path FROM pr_files ORDER BY number, path")
    assert files.rows() == [(1, "b.py"), (2, "README.md")]
    # PR 1's reviews, commits, checks were replaced by the (empty) sets of the newer page
    assert warehouse.query("SELECT number FROM pr_reviews").rows() == []
    assert warehouse.query("SELECT number FROM pr_commits").rows() == [(2,)]
    assert warehouse.query("SELECT count(*) FROM check_runs").item() == 0


def test_check_runs_not_fetched_with_a_page_are_kept(warehouse: Warehouse) -> None:
    warehouse.upsert_page(first_page())
    warehouse.upsert_page(page([pr(1, updated_at=at(5))], check_runs=None, statuses=None))
    assert warehouse.query("SELECT check_run_id FROM check_runs").rows() == [(10,)]
    assert warehouse.query("SELECT context FROM commit_statuses").rows() == [("ci/legacy",)]


def test_a_replayed_older_page_does_not_roll_a_pr_back(warehouse: Warehouse) -> None:
    warehouse.upsert_page(page([pr(1, title="new", updated_at=at(5))], files=[file(1, "new.py")]))
    warehouse.upsert_page(page([pr(1, title="old", updated_at=at(1))], files=[file(1, "old.py")]))
    assert warehouse.query("SELECT title FROM pull_requests").item() == "new"
    assert warehouse.query("SELECT path FROM pr_files").item() == "new.py"


def test_a_page_of_new_and_stored_prs_replaces_the_stored_sets(warehouse: Warehouse) -> None:
    warehouse.upsert_page(first_page())
    # PR 1 is stored (its sets shrink and change), PR 3 is new; PR 2 is not in the page.
    mixed = page(
        [pr(1, title="again", updated_at=at(5)), pr(3)],
        reviews=[review(3, "carol", "COMMENTED", at(6))],
        commits=[commit(1, "c3", at(4)), commit(3, "c4", at(4))],
        files=[file(1, "b.py"), file(3, "new.py")],
        check_runs=[check_run(1, 11, "lint", "FAILURE")],
        statuses=[],
    )
    warehouse.upsert_page(mixed)
    rows = snapshot(warehouse)
    assert [(r[1], r[4]) for r in rows["pull_requests"]] == [(1, "again"), (2, "PR 2"), (3, "PR 3")]
    assert [(r[1], r[2]) for r in rows["pr_files"]] == [
        (1, "b.py"),
        (2, "README.md"),
        (3, "new.py"),
    ]
    assert [(r[1], r[2]) for r in rows["pr_commits"]] == [(1, "c3"), (2, "c2"), (3, "c4")]
    assert [(r[1], r[4]) for r in rows["pr_reviews"]] == [(3, "carol")]
    assert [(r[1], r[3]) for r in rows["check_runs"]] == [(1, 11)]
    assert rows["commit_statuses"] == []


def test_a_page_with_a_replayed_pr_writes_only_its_newer_prs(warehouse: Warehouse) -> None:
    warehouse.upsert_page(page([pr(1, title="new", updated_at=at(5))], files=[file(1, "new.py")]))
    replayed = page(
        [pr(1, title="old", updated_at=at(1)), pr(2, updated_at=at(1))],
        files=[file(1, "old.py"), file(2, "two.py")],
    )
    warehouse.upsert_page(replayed)
    titles = warehouse.query("SELECT number, title FROM pull_requests ORDER BY 1").rows()
    assert titles == [(1, "new"), (2, "PR 2")]
    files = warehouse.query("SELECT number, path FROM pr_files ORDER BY 1").rows()
    assert files == [(1, "new.py"), (2, "two.py")]


def test_a_child_row_of_a_pr_not_in_the_page_is_refused() -> None:
    with pytest.raises(ValueError, match="pr_files"):
        page([pr(1)], files=[file(2, "a.py")])


@pytest.mark.parametrize(
    ("broken_statuses", "broken_state"),
    [
        ([status(3, None, "SUCCESS")], SyncState(REPO, watermark=at(9), cursor="page-2")),
        ([status(3, "ci", "SUCCESS")], SyncState(None, watermark=at(9))),  # type: ignore[arg-type]
    ],
    ids=["last-child-insert-fails", "sync-state-write-fails"],
)
def test_a_page_failing_inside_its_transaction_leaves_nothing(
    warehouse: Warehouse, broken_statuses: list[dict[str, object]], broken_state: SyncState
) -> None:
    before = SyncState(REPO, watermark=at(0), status="running", cursor="page-1")
    warehouse.upsert_page(first_page(), before)
    after_first = snapshot(warehouse)
    # A late statement of the page fails (a NOT NULL column is null): everything before it in
    # the transaction (PR upserts, deletes, child inserts) must vanish with it.
    broken = page(
        [pr(1, title="changed", updated_at=at(9)), pr(3)],
        reviews=[review(3, "bob", "APPROVED", at(1))],
        files=[file(1, "c.py")],
        statuses=broken_statuses,
    )
    with pytest.raises(WarehouseError, match=r"NOT NULL") as failed:
        warehouse.upsert_page(broken, broken_state)
    assert str(failed.value).startswith(f"warehouse {warehouse.path}: ")
    assert snapshot(warehouse) == after_first
    assert warehouse.read_sync_state(REPO) == before
    # and the warehouse is usable afterwards
    warehouse.upsert_page(page([pr(3)]))
    assert warehouse.query("SELECT count(*) FROM pull_requests").item() == 3


def test_commit_heads_are_the_prs_headed_by_those_commits_in_any_state(
    warehouse: Warehouse,
) -> None:
    merged = pr(2, state="MERGED", head_commit_id="C_2", merged_at=at(2))
    other = pr(3, head_commit_id="C_3")
    warehouse.upsert_page(page([pr(1, head_commit_id="C_1"), merged, other]))
    found = warehouse.commit_heads(REPO, ["sha2", "sha1", "unknown"])
    assert found == [PendingCheck(1, "C_1"), PendingCheck(2, "C_2")]
    assert warehouse.commit_heads("acme/other", ["sha1"]) == []


def test_sync_state_round_trips(warehouse: Warehouse) -> None:
    assert warehouse.read_sync_state(REPO) is None
    state = SyncState(
        REPO,
        watermark=at(1),
        last_synced_at=at(2),
        status="failed",
        cursor="Y3Vyc29y",
        pending_check_runs=(PendingCheck(3, "C_1"), PendingCheck(4, "C_2")),
        error="boom",
        window_since=at(0),
        window_until=at(1),
        session_id="5f1e",
        page_size=25,
    )
    warehouse.write_sync_state(state)
    assert warehouse.read_sync_state(REPO) == state
    done = SyncState(REPO, watermark=at(3), last_synced_at=at(3), status="ok")
    warehouse.write_sync_state(done)
    assert warehouse.read_sync_state(REPO) == done
    assert warehouse.read_sync_state("acme/other") is None


def test_sync_state_is_written_with_its_page(warehouse: Warehouse) -> None:
    state = SyncState(REPO, watermark=at(7), status="ok")
    warehouse.upsert_page(first_page(), state)
    assert warehouse.read_sync_state(REPO) == state


def test_repositories_are_upserted_by_name(warehouse: Warehouse) -> None:
    row = {"repo": REPO, "repo_id": "R_1", "is_archived": False, "pushed_at": at(0)}
    warehouse.upsert_repositories(pl.DataFrame([row | {"synced_at": at(1)}], schema=REPOSITORIES))
    warehouse.upsert_repositories(pl.DataFrame([row | {"synced_at": at(2)}], schema=REPOSITORIES))
    assert warehouse.query("SELECT repo, synced_at FROM repositories").rows() == [(REPO, at(2))]


def test_a_frame_with_the_wrong_schema_is_refused() -> None:
    with pytest.raises(TypeError, match="pr_files"):
        page([pr(1)]).__class__(
            pull_requests=page([pr(1)]).pull_requests,
            children={table.name: empty_frame(table.schema) for table in PR_TABLES}
            | {"pr_files": pl.DataFrame({"repo": [REPO], "number": [1], "path": ["a"]})},
        )


def test_a_pr_twice_in_one_page_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        page([pr(1), pr(1, title="again")])
