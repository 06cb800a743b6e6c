"""DuckDB warehouse: open, migrate, load pages of frames, keep sync state.

Every write is one transaction: a page's PRs are upserted by (repo, number) and their child rows
replaced as a set, through Arrow (frames are registered with DuckDB and copied by INSERT ...
SELECT, never row by row), together with the sync state that describes them. A failure rolls
the whole page back. The SQL lives in warehouse/ (see ghsync/sql_files.py).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from string import Template
from types import TracebackType
from typing import Any, Literal, Self

import duckdb
import polars as pl

from ghsync.errors import DatabaseCorrupt, DatabaseLocked, DatabasePathError, WarehouseError
from ghsync.frames import REPOSITORIES, CheckFrames, ChildTable, PageFrames, check_schema
from ghsync.sql_files import list_migrations, list_views, read_ai_rules, read_statement

# DuckDB reports these conditions only in its messages: map them to our error classes.
_ERROR_MARKERS: list[tuple[type[WarehouseError], tuple[str, ...]]] = [
    (DatabaseLocked, ("Could not set lock",)),
    (
        DatabaseCorrupt,
        ("not a valid DuckDB database", "Corrupt database", "Could not read enough bytes"),
    ),
    (
        DatabasePathError,
        (
            "No such file or directory",
            "Permission denied",
            "Read-only file system",
            "Is a directory",
            "database does not exist",
        ),
    ),
]

# The tables a page replaces rows of, by (repo, number): the PRs and their children.
PageTable = Literal["pull_requests", ChildTable]

_AI_RULES_SCHEMA = {"tool": pl.String, "kind": pl.String, "pattern": pl.String, "note": pl.String}


@dataclass(frozen=True)
class SyncState:
    """Where one repository's sync stands (a row of `sync_state`)."""

    repo: str
    watermark: datetime | None = None
    last_synced_at: datetime | None = None
    status: str = "running"
    cursor: str | None = None
    pending_check_runs: tuple[str, ...] = ()
    error: str | None = None
    window_since: datetime | None = None
    window_until: datetime | None = None
    """The window of an unfinished session (both None when none is open)."""


def classify_error(path: Path, exc: duckdb.Error) -> WarehouseError:
    """The WarehouseError for a DuckDB failure on the file at `path`."""
    message = str(exc)
    for error_class, markers in _ERROR_MARKERS:
        if any(marker in message for marker in markers):
            return error_class(path, message)
    return WarehouseError(path, message)


def check_writable(path: Path) -> None:
    """Raise DatabasePathError now if a warehouse at `path` could not be created or written
    (a missing directory, a read-only file or file system): a sync checks this before it asks
    GitHub anything. Opening the file here would not do: another run may hold its lock."""
    directory = path.parent
    if not directory.is_dir():
        raise DatabasePathError(path, f"directory {directory} does not exist")
    for target in (directory, path):
        if target.exists() and not os.access(target, os.W_OK):
            raise DatabasePathError(path, f"{target} is read-only")


class Warehouse:
    """A connection to one warehouse file; use `Warehouse.open` and close it (or `with`)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._con = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, migrate: bool = True) -> Warehouse:
        """Open (or create) the file at `path` and migrate it; `read_only` skips migrating, and
        so does `migrate` False (for a caller that migrated the file earlier in the process).

        Raises DatabaseLocked, DatabaseCorrupt or DatabasePathError, each naming the path.
        """
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            raise classify_error(path, exc) from exc
        warehouse = cls(connection, path)
        try:
            with warehouse._errors_named():
                # Naive timestamps are cast to TIMESTAMPTZ in the session zone: make it UTC.
                connection.execute("SET TimeZone = 'UTC'")
            if migrate and not read_only:
                warehouse.migrate()
        except BaseException:
            connection.close()
            raise
        return warehouse

    def close(self) -> None:
        """Close the connection (and release the file lock)."""
        self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def migrate(self) -> list[str]:
        """Apply the migrations not applied yet, re-create the views and reload the AI rules,
        all in one transaction. Returns the names of the migrations applied now."""
        with self._errors_named():
            self._con.execute(read_statement("bootstrap"))
        with self._registered(page_ai_rules=self._ai_rules()), self._transaction():
            applied = {row[0] for row in self._fetch("applied_migrations")}
            pending = [m for m in list_migrations() if m.version not in applied]
            for migration in pending:
                self._con.execute(migration.sql)
                self._con.execute(
                    read_statement("record_migration"),
                    {"version": migration.version, "name": migration.name},
                )
            for view in list_views():
                self._con.execute(view.sql)
            self._con.execute(read_statement("replace_ai_rules"))
        return [f"{m.version:03d}_{m.name}" for m in pending]

    def upsert_page(self, frames: PageFrames, sync_state: SyncState | None = None) -> None:
        """Load one page in one transaction: upsert its PRs, replace their child rows, and
        write `sync_state` if given. A stored PR newer than the page's copy is kept as is."""
        children = frames.children()
        pages = {f"page_{table}": frame for table, frame in children.items()}
        registered = self._registered(page_pull_requests=frames.pull_requests, **pages)
        with registered, self._transaction():
            self._con.execute(read_statement("page_keys"))
            prs = frames.pull_requests.height
            self._replace_rows(["pull_requests", *children], prs, sync_state)

    def replace_check_runs(self, frames: CheckFrames, sync_state: SyncState | None = None) -> None:
        """Load check runs fetched after their PRs' page, in one transaction: each target PR's
        check runs and statuses are replaced; `sync_state` is written with them if given."""
        registered = self._registered(
            page_check_targets=frames.targets,
            page_check_runs=frames.check_runs,
            page_commit_statuses=frames.commit_statuses,
        )
        with registered, self._transaction():
            self._con.execute(read_statement("check_keys"))
            targets = frames.targets.n_unique()
            self._replace_rows(["check_runs", "commit_statuses"], targets, sync_state)

    def upsert_repositories(self, frame: pl.DataFrame) -> None:
        """Insert or replace rows of `repositories` (schema `ghsync.frames.REPOSITORIES`)."""
        check_schema("repositories", frame, REPOSITORIES)
        with self._registered(page_repositories=frame), self._transaction():
            self._con.execute(read_statement("upsert_repositories"))

    def read_sync_state(self, repo: str) -> SyncState | None:
        """The stored sync state of `repo`, or None before its first sync."""
        rows = self._fetch("read_sync_state", {"repo": repo})
        if not rows:
            return None
        repo_, watermark, synced, status, cursor, pending, error, since, until = rows[0]
        return SyncState(
            repo_, watermark, synced, status, cursor, tuple(pending or ()), error, since, until
        )

    def write_sync_state(self, state: SyncState) -> None:
        """Insert or replace the sync state of `state.repo` on its own."""
        with self._transaction():
            self._write_sync_state(state)

    def query(self, sql: str) -> pl.DataFrame:
        """Run any SQL and return its result (an empty frame for a statement without one)."""
        with self._errors_named():
            relation = self._con.sql(sql)
            result: pl.DataFrame = relation.pl() if relation is not None else pl.DataFrame()
            return result

    def _replace_rows(
        self, tables: Iterable[PageTable], offered: int, sync_state: SyncState | None
    ) -> None:
        """Replace the rows of the PRs in `page_keys` by those of `page_<table>`; then the
        sync state. Runs inside the caller's transaction, with the frames registered.

        `offered` is how many PRs the frames hold. Each delete is a join and a statement per
        table, so they run only when some accepted PR is stored (never in a backfill); the join
        on page_keys only when page_keys refused some PR (a replayed older page)."""
        counts = self._con.execute(read_statement("page_keys_counts")).fetchone()
        accepted, stored = counts if counts is not None else (0, 0)
        if accepted:
            delete = Template(read_statement("delete_stored_rows"))
            rows = "insert_page_rows" if accepted == offered else "insert_accepted_rows"
            insert = Template(read_statement(rows))
            for table in tables:
                if stored:
                    self._con.execute(delete.substitute(table=table))
                self._con.execute(insert.substitute(table=table))
        if sync_state is not None:
            self._write_sync_state(sync_state)

    def _write_sync_state(self, state: SyncState) -> None:
        self._con.execute(
            read_statement("write_sync_state"),
            {**asdict(state), "pending_check_runs": list(state.pending_check_runs)},
        )

    def _ai_rules(self) -> pl.DataFrame:
        return pl.read_csv(io.BytesIO(read_ai_rules()), schema=_AI_RULES_SCHEMA)

    def _fetch(
        self, statement: str, parameters: dict[str, object] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._errors_named():
            return self._con.execute(read_statement(statement), parameters).fetchall()

    @contextmanager
    def _registered(self, **frames: pl.DataFrame) -> Iterator[None]:
        """Make each frame queryable under its name (zero-copy through Arrow) for the block;
        outside any transaction, since an aborted one refuses to unregister."""
        for name, frame in frames.items():
            self._con.register(name, frame.to_arrow())
        try:
            yield
        finally:
            for name in frames:
                self._con.unregister(name)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One transaction; any exception rolls it back and DuckDB errors name the file."""
        with self._errors_named():
            self._con.begin()
            try:
                yield
            except BaseException:
                self._con.rollback()
                raise
            self._con.commit()

    @contextmanager
    def _errors_named(self) -> Iterator[None]:
        try:
            yield
        except duckdb.Error as exc:
            raise classify_error(self.path, exc) from exc
