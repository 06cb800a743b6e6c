"""The warehouse as a DuckLake on a throwaway PostgreSQL: the same tables as a DuckDB file, a
sync into it equals GitHub's truth and compacts its files, `ghsync status` and `ghsync sql`
read it, writers of several processes at once end exact (conflicts retried), a reader blocks
no writer, an unreachable catalog is a clear error without its password."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows.sync import sync_repos
from ghsync import SyncState, Warehouse
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.errors import LakeUnreachable, WriteConflict
from ghsync.lake import Lake
from ghsync.warehouse import check_writable, classify_error
from ghsync.writer import WarehouseWriter
from tests.conftest import emulated
from tests.integration.truth import connect, differences
from tests.postgres import Postgres
from tests.unit.warehouse_rows import file, page, pr

TOKENS = tuple(f"ghp_{c * 36}" for c in "lm")
COLUMNS = """SELECT table_name, column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' ORDER BY ALL"""
VIEWS = """SELECT view_name FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal ORDER BY ALL"""


def test_the_migrations_make_the_same_tables_and_views_on_both_stores(
    lake: Lake, tmp_path: Path
) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as on_file, Warehouse.open(lake) as on_lake:
        assert on_lake.query(COLUMNS).rows() == on_file.query(COLUMNS).rows()
        assert on_lake.query(VIEWS).rows() == on_file.query(VIEWS).rows()
        assert len(on_file.query(VIEWS)) >= 10
        assert on_lake.migrate() == []  # up to date: nothing applied, nothing written


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    config = EmulatorConfig(seed=18, repos=2, prs=60, tokens=TOKENS)
    with emulated(monkeypatch, config) as running:
        yield running


def ghsync(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", **env}
    command = [sys.executable, "-m", "ghsync.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


async def test_a_sync_into_a_ducklake_equals_truth_and_compacts_its_files(
    emulator: Emulator, lake: Lake
) -> None:
    repos = ["acme/repo-1", "acme/repo-2"]
    outcomes = await sync_repos(repos=repos, days_back=None, db=str(lake))
    assert {o.state for o in outcomes} == {"synced"}
    for repo in repos:
        truth = emulator.truth(repo)
        assert truth is not None
        assert differences(lake, truth) == {}, repo

    status = ghsync("status", "--db", str(lake), "--json")
    assert status.returncode == 0, status.stderr
    assert status.stdout.count('"status":"synced"') == 2
    sql = ghsync("sql", "--db", str(lake), "--csv", "SELECT count(*) AS prs FROM pr_metrics")
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.splitlines() == ["prs", "120"]

    emulator.reset_stats()
    again = await sync_repos(repos=repos, db=str(lake), ci_recheck_days=0)
    assert {o.state for o in again} == {"unchanged"}


def test_compaction_merges_the_small_files_of_many_commits(lake: Lake) -> None:
    with Warehouse.open(lake) as warehouse:
        for number in range(12):  # a commit each, as a sync's pages
            prs = [pr(n) for n in range(number * 20, number * 20 + 20)]
            warehouse.upsert_page(page(prs, files=[file(p["number"], "a.py") for p in prs]))
        rows = warehouse.query("SELECT * FROM pr_files ORDER BY ALL").rows()
        before, after = warehouse.compact() or (0, 0)
        assert before >= 24  # a file per table per commit (pull_requests, pr_files)
        assert after <= 5  # a file per table holding rows (PRs, files, migrations, digest, rules)
        assert warehouse.query("SELECT * FROM pr_files ORDER BY ALL").rows() == rows


def _load_pages(lake: Lake, repo: str, pages: int) -> int:
    """Load `pages` pages of 5 PRs of `repo` through a writer, each with a sync state (every
    load deletes from sync_state: a conflict with any other process's load); returns the
    conflicts the writer met and resolved."""

    async def load() -> int:
        async with WarehouseWriter.of(lake) as writer:
            for number in range(pages):
                prs = [pr(n, repo=repo) for n in range(number * 5, number * 5 + 5)]
                frames = page(prs, files=[file(p["number"], "a.py", repo=repo) for p in prs])
                await writer.load((frames, SyncState(repo, status="running", cursor=str(number))))
            return writer.stats.conflicts

    return asyncio.run(load())


def test_writers_in_several_processes_at_once_end_exact(lake: Lake) -> None:
    Warehouse.open(lake).close()  # migrated once, as a parent run does before fanning out
    repos = [f"acme/repo-{n}" for n in range(3)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(repos)) as pool:
        conflicts = pool.starmap(_load_pages, [(lake, repo, 12) for repo in repos])
    with Warehouse.open(lake, read_only=True) as warehouse:
        counts = warehouse.query("SELECT repo, count(*) FROM pull_requests GROUP BY ALL ORDER BY 1")
        assert counts.rows() == [(repo, 60) for repo in repos]
        assert warehouse.query("SELECT count(*) FROM pr_files").item() == 180
        for repo in repos:
            state = warehouse.read_sync_state(repo)
            assert state is not None and state.cursor == "11"
    print(f"conflicts resolved by retrying, per process: {conflicts}")


def test_a_conflict_between_two_writers_is_a_write_conflict(lake: Lake) -> None:
    with Warehouse.open(lake) as warehouse:
        warehouse.upsert_page(page([pr(1)]))
    first, second = duckdb.connect(), duckdb.connect()
    for connection in (first, second):
        lake.attach(connection, read_only=False)
    first.begin()  # an upsert of a stored PR deletes it first
    first.execute("DELETE FROM pull_requests WHERE number = 1")
    second.execute("INSERT INTO pull_requests (repo, number) VALUES ('acme/b', 2)")  # meanwhile
    with pytest.raises(duckdb.Error) as refused:
        first.commit()
    assert isinstance(classify_error(lake, refused.value), WriteConflict)


def test_a_reader_never_blocks_a_writer(lake: Lake) -> None:
    with Warehouse.open(lake) as writer:
        writer.upsert_page(page([pr(1)]))
        with connect(lake) as reader:
            reader.begin()
            assert reader.execute("SELECT count(*) FROM pull_requests").fetchone() == (1,)
            writer.upsert_page(page([pr(2)]))  # while the reader's transaction is open
            assert reader.execute("SELECT count(*) FROM pull_requests").fetchone() == (1,)
            reader.commit()
            assert reader.execute("SELECT count(*) FROM pull_requests").fetchone() == (2,)


def test_an_unreachable_catalog_is_a_clear_error(postgres: Postgres, tmp_path: Path) -> None:
    closed = Lake("postgres:dbname=lake host=127.0.0.1 port=1 user=ghsync", f"{tmp_path}/")
    with pytest.raises(LakeUnreachable) as failed:
        check_writable(closed)
    assert str(failed.value).startswith(f"warehouse {closed}: ")
    assert "GHSYNC_DB's catalog" in str(failed.value)
    done = ghsync("status", "--db", str(closed))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: warehouse {closed}: ")


@pytest.mark.parametrize("command", [["status"], ["sql", "SELECT 1"], ["sync", "acme/app"]])
def test_a_location_holding_a_password_is_refused_unprinted(
    command: list[str], tmp_path: Path
) -> None:
    location = f"ducklake:postgres:dbname=lake host=pg password=hunter2 data_path={tmp_path}/"
    done = ghsync(*command, "--db", location, GITHUB_TOKENS=TOKENS[0])
    assert done.returncode == 2, done.stderr
    assert "PGPASSWORD" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr
