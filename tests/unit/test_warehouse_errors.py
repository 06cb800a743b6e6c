"""Bad warehouse files give a clear error naming the path, and are left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ghsync.errors import DatabaseCorrupt, DatabaseLocked, DatabasePathError, WarehouseError
from ghsync.warehouse import Warehouse, check_writable, classify_error
from tests.unit.holder import holding
from tests.unit.warehouse_rows import page, pr


@pytest.fixture
def locked_db(tmp_path: Path) -> Iterator[Path]:
    """A warehouse file held open for writing by another process."""
    path = tmp_path / "locked.duckdb"
    Warehouse.open(path).close()
    with holding(path):
        yield path


@pytest.mark.parametrize("read_only", [False, True], ids=["write", "read-only"])
def test_a_locked_file_names_the_path_and_the_cause(locked_db: Path, read_only: bool) -> None:
    with pytest.raises(DatabaseLocked) as caught:
        Warehouse.open(locked_db, read_only=read_only)
    assert str(locked_db) in str(caught.value)
    assert "another process" in str(caught.value)
    assert caught.value.path == locked_db


def garbage(path: Path) -> bytes:
    data = b"this is not a database\n" * 500
    path.write_bytes(data)
    return data


def truncated(path: Path) -> bytes:
    connection = duckdb.connect(str(path))
    connection.execute("CREATE TABLE t AS SELECT range AS i FROM range(300000)")
    connection.close()
    data = path.read_bytes()[:20000]
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("spoil", [garbage, truncated], ids=["garbage", "truncated"])
def test_a_corrupt_file_names_the_path_and_is_left_untouched(tmp_path: Path, spoil) -> None:
    path = tmp_path / "corrupt.duckdb"
    data = spoil(path)
    with pytest.raises(DatabaseCorrupt) as caught, Warehouse.open(path) as warehouse:
        warehouse.upsert_page(page([pr(1)]))
    assert str(path) in str(caught.value)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("relative", "read_only"),
    [
        ("missing-dir/ghsync.duckdb", False),
        ("", False),  # the path is a directory
        ("absent.duckdb", True),  # nothing to read
    ],
    ids=["missing-directory", "path-is-a-directory", "read-only-missing-file"],
)
def test_an_unusable_path_is_named(tmp_path: Path, relative: str, read_only: bool) -> None:
    path = tmp_path / relative
    with pytest.raises(DatabasePathError) as caught:
        Warehouse.open(path, read_only=read_only)
    assert str(path) in str(caught.value)
    assert "GHSYNC_DB" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_missing_directory_is_refused_before_a_sync(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "ghsync.duckdb"
    with pytest.raises(DatabasePathError, match="missing-dir does not exist") as caught:
        check_writable(path)
    assert str(path) in str(caught.value) and "GHSYNC_DB" in str(caught.value)
    check_writable(tmp_path / "new.duckdb")  # a file to be created is fine
    assert list(tmp_path.iterdir()) == []  # and nothing is created by checking


@pytest.mark.parametrize("content", [b"", b"id,title\n1,fix\n" * 100], ids=["empty", "csv"])
def test_a_file_that_is_not_a_duckdb_database_is_refused_before_a_sync(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "w.db"  # not *.duckdb: scenario 10 opens those it finds
    path.write_bytes(content)
    with pytest.raises(DatabaseCorrupt, match="the file is not a DuckDB database") as caught:
        check_writable(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content
    Warehouse.open(tmp_path / "real.duckdb").close()
    check_writable(tmp_path / "real.duckdb")  # a warehouse is fine


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('IO Error: Cannot open file "/x/w.duckdb": Permission denied', DatabasePathError),
        ('IO Error: Cannot open file "/x/w.duckdb": Read-only file system', DatabasePathError),
        ("Binder Error: Referenced column nope not found", WarehouseError),
    ],
    ids=["permission-denied", "read-only-filesystem", "anything-else"],
)
def test_classify_error(message: str, expected: type[WarehouseError]) -> None:
    error = classify_error(Path("/x/w.duckdb"), duckdb.IOException(message))
    assert type(error) is expected
    assert str(error).startswith("warehouse /x/w.duckdb: ")


def test_a_bad_query_is_a_warehouse_error_naming_the_file(tmp_path: Path) -> None:
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    with warehouse, pytest.raises(WarehouseError, match=r"w\.duckdb.*no_such_table"):
        warehouse.query("SELECT * FROM no_such_table")
