"""DuckDB warehouse: open, migrate, load pages of frames, keep sync state.

The warehouse is a DuckDB file or a DuckLake (ghsync/lake.py): the same tables, views and
statements on both, DuckLake attached as the default catalog of an in-memory DuckDB.

Every write is one transaction: a page's PRs are upserted by (repo, number) and their child rows
replaced as a set, through Arrow (frames are registered with DuckDB and copied by INSERT ...
SELECT, never row by row), together with the sync state that describes them. A failure rolls
the whole page back. Pages queued together load in one transaction (`upsert_pages`): a
statement costs about half a millisecond whatever its rows, and a commit two, so a 50-PR page
alone spends most of its time on them. The SQL lives in warehouse/ (see ghsync/sql_files.py).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from string import Template
from types import TracebackType
from typing import Any, Self

import duckdb
import polars as pl

from ghsync.ci import PendingCheck
from ghsync.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabasePathError,
    LakeUnreachable,
    WarehouseError,
    WriteConflict,
)
from ghsync.frames import REPOSITORIES, CheckFrames, PageFrames, check_schema, join_pages
from ghsync.lake import Lake, Location, without_constraints
from ghsync.sql_files import (
    list_migrations,
    list_views,
    read_ai_rules,
    read_statement,
    schema_digest,
)
from ghsync.state import RepoStatus, SyncState

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
    (WriteConflict, ("Transaction conflict",)),
    (
        LakeUnreachable,
        ("Unable to connect", "could not connect", "Connection refused", "authentication failed"),
    ),
]

_AI_RULES_SCHEMA = {"tool": pl.String, "kind": pl.String, "pattern": pl.String, "note": pl.String}


PageLoad = tuple[PageFrames, SyncState | None]
"""A page to load, with the sync state to write with it (or None)."""


def classify_error(path: Location, exc: duckdb.Error) -> WarehouseError:
    """The WarehouseError for a DuckDB failure on the warehouse at `path`."""
    message = str(exc)
    for error_class, markers in _ERROR_MARKERS:
        if any(marker in message for marker in markers):
            return error_class(path, message)
    return WarehouseError(path, message)


def check_writable(path: Location) -> None:
    """Raise DatabasePathError now if a warehouse at `path` could not be created or written
    (a missing directory, a read-only file or file system), DatabaseCorrupt if the file there
    is not a DuckDB database: a sync checks this before it asks GitHub anything. Opening the
    file here would not do: another run may hold its lock (the header needs no lock). A
    DuckLake is attached once (LakeUnreachable when its catalog cannot be reached)."""
    if isinstance(path, Lake):
        Warehouse.open(path, migrate=False).close()
        return
    directory = path.parent
    if not directory.is_dir():
        raise DatabasePathError(path, f"directory {directory} does not exist")
    for target in (directory, path):
        if target.exists() and not os.access(target, os.W_OK):
            raise DatabasePathError(path, f"{target} is read-only")
    if path.is_file() and not _has_duckdb_header(path):
        raise DatabaseCorrupt(path, "the file is not a DuckDB database")


def _has_duckdb_header(path: Path) -> bool:
    """DuckDB files carry `DUCK` at bytes 8-11 (after a checksum); DuckDB refuses any other
    file, an empty one too."""
    with path.open("rb") as file:
        return file.read(12)[8:12] == b"DUCK"


class Warehouse:
    """A connection to one warehouse; use `Warehouse.open` and close it (or `with`)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Location) -> None:
        self._con = connection
        self.path = path

    @classmethod
    def open(cls, path: Location, *, read_only: bool = False, migrate: bool = True) -> Warehouse:
        """Open (or create) the warehouse at `path` and migrate it; `read_only` skips migrating,
        and so does `migrate` False (for a caller that migrated it earlier in the process).

        Raises DatabaseLocked, DatabaseCorrupt, DatabasePathError or LakeUnreachable, each
        naming the warehouse.
        """
        target = ":memory:" if isinstance(path, Lake) else str(path)
        try:
            connection = duckdb.connect(target, read_only=read_only and target != ":memory:")
        except duckdb.Error as exc:
            raise classify_error(path, exc) from exc
        warehouse = cls(connection, path)
        try:
            with warehouse._errors_named():
                # Naive timestamps are cast to TIMESTAMPTZ in the session zone: make it UTC.
                connection.execute("SET TimeZone = 'UTC'")
                if isinstance(path, Lake):
                    path.attach(connection, read_only=read_only)
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
        all in one transaction, unless the warehouse has them all already (its digest of them
        is this version's). Returns the names of the migrations applied now."""
        with self._errors_named():
            self._con.execute(self._ddl(read_statement("bootstrap")))
        digest = schema_digest()
        if [(digest,)] == self._fetch("read_schema_digest"):
            return []
        with self._frames() as register, self._transaction():
            register(page_ai_rules=self._ai_rules())
            applied = {row[0] for row in self._fetch("applied_migrations")}
            pending = [m for m in list_migrations() if m.version not in applied]
            for migration in pending:
                self._con.execute(self._ddl(migration.sql))
                self._con.execute(
                    read_statement("record_migration"),
                    {"version": migration.version, "name": migration.name},
                )
            for view in list_views():
                self._con.execute(view.sql)
            self._con.execute(read_statement("replace_ai_rules"))
            self._con.execute(read_statement("write_schema_digest"), {"digest": digest})
        return [f"{m.version:03d}_{m.name}" for m in pending]

    def _ddl(self, sql: str) -> str:
        """`sql` as this warehouse takes it (a DuckLake has no key or check constraints)."""
        return without_constraints(sql) if isinstance(self.path, Lake) else sql

    def upsert_page(self, frames: PageFrames, sync_state: SyncState | None = None) -> None:
        """Load one page in one transaction: upsert its PRs, replace their child rows, and
        write `sync_state` if given. A stored PR newer than the page's copy is kept as is."""
        self.upsert_pages([(frames, sync_state)])

    def upsert_pages(self, loads: Sequence[PageLoad]) -> None:
        """Load pages, each with its sync state (or None), in one transaction: the tables end
        as `upsert_page` of each in order would leave them, at a fraction of the statements
        (consecutive pages are joined, see `join_pages`); the last state given per repository
        is written."""
        states = {state.repo: state for _, state in loads if state is not None}
        with self._frames() as register, self._transaction():
            for frames in join_pages([frames for frames, _ in loads]):
                children = frames.children
                pages = {f"page_{table}": frame for table, frame in children.items()}
                register(page_pull_requests=frames.pull_requests, **pages)
                self._con.execute(read_statement("page_keys"))
                prs = frames.pull_requests.height
                self._replace_rows(["pull_requests", *children], prs)
            for state in states.values():
                self._write_sync_state(state)

    def replace_check_runs(self, frames: CheckFrames, sync_state: SyncState | None = None) -> int:
        """Load check runs fetched apart from their PRs' page, in one transaction: each target
        PR's check runs and statuses are replaced; `sync_state` is written with them if given.
        Returns how many of the target PRs' rows changed."""
        with self._frames() as register, self._transaction():
            pages = {f"page_{table}": frame for table, frame in frames.children.items()}
            register(page_check_targets=frames.targets, **pages)
            changed = self._con.execute(read_statement("check_changes")).fetchone()
            self._con.execute(read_statement("check_keys"))
            self._replace_rows(frames.children, frames.targets.n_unique())
            if sync_state is not None:
                self._write_sync_state(sync_state)
        return int(changed[0]) if changed else 0

    def open_heads(self, repo: str, updated_since: datetime) -> list[PendingCheck]:
        """The head commits of `repo`'s open PRs updated at or after `updated_since`."""
        rows = self._fetch("open_heads", {"repo": repo, "since": updated_since})
        return [PendingCheck(number, commit_id) for number, commit_id in rows]

    def commit_heads(self, repo: str, shas: list[str]) -> list[PendingCheck]:
        """The head commits of `repo`'s PRs whose head is one of `shas`."""
        rows = self._fetch("commit_heads", {"repo": repo, "shas": shas})
        return [PendingCheck(number, commit_id) for number, commit_id in rows]

    def upsert_repositories(self, frame: pl.DataFrame) -> None:
        """Insert or replace rows of `repositories` (schema `ghsync.frames.REPOSITORIES`)."""
        check_schema("repositories", frame, REPOSITORIES)
        with self._frames() as register, self._transaction():
            register(page_repositories=frame)
            self._con.execute(read_statement("upsert_repositories"))

    def read_sync_state(self, repo: str) -> SyncState | None:
        """The stored sync state of `repo`, or None before its first sync."""
        rows = self._fetch("read_sync_state", {"repo": repo})
        if not rows:
            return None
        repo_, watermark, synced, status, cursor, pending, *rest = rows[0]
        checks = tuple(PendingCheck.decode(entry) for entry in pending or ())
        return SyncState(repo_, watermark, synced, status, cursor, checks, *rest)

    def write_sync_state(self, state: SyncState) -> None:
        """Insert or replace the sync state of `state.repo` on its own."""
        with self._transaction():
            self._write_sync_state(state)

    def record_outcome(self, repo: str, outcome: RepoStatus, error: str | None) -> None:
        """How the last run ended for `repo` (now), leaving the rest of its state as it is (a
        failed or interrupted session stays open, to resume)."""
        with self._transaction(), self._errors_named():
            self._con.execute(
                read_statement("record_outcome"),
                {"repo": repo, "status": str(outcome), "error": error},
            )

    def status(self, repos: Sequence[str], *, live: bool) -> pl.DataFrame:
        """`ghsync status` of `repos` (all when empty); `live`: a sync of this file is alive,
        so a repository in state `running` is being synced, not interrupted."""
        with self._errors_named():
            parameters = {"repos": list(repos), "live": live}
            relation = self._con.sql(read_statement("status"), params=parameters)
            assert relation is not None
            result: pl.DataFrame = relation.pl()
            return result

    def compact(self) -> tuple[int, int] | None:
        """The upkeep after a sync: the sync states newer ones replaced are deleted, and a
        DuckLake's small files merged (warehouse/statements/compact_lake.sql). Returns the
        Parquet files the lake's current snapshot reads, before and after; None for a file
        (DuckDB keeps a file compact itself)."""
        with self._transaction():
            self._con.execute(read_statement("prune_sync_state"))
        if not isinstance(self.path, Lake):
            return None
        before = self._fetch("lake_files")[0][0]
        with self._errors_named():
            self._con.execute(read_statement("compact_lake"))
        return before, self._fetch("lake_files")[0][0]

    def statements(self, sql: str) -> list[str]:
        """The statements of `sql` in order, split by DuckDB's parser (comments kept with the
        statement they precede); a syntax error anywhere raises before any of them runs."""
        with self._errors_named():
            return [statement.query for statement in self._con.extract_statements(sql)]

    def query(self, sql: str, parameters: dict[str, object] | None = None) -> pl.DataFrame:
        """Run any SQL, with `parameters` bound to its `$name`s, and return its result (a frame
        without columns for a statement without one; with several statements, the last one's)."""
        with self._errors_named():
            relation = self._con.sql(sql, params=parameters)
            result: pl.DataFrame = relation.pl() if relation is not None else pl.DataFrame()
            return result

    def _replace_rows(self, tables: Iterable[str], offered: int) -> None:
        """Replace the rows of the PRs in `page_keys` by those of `page_<table>`. Runs inside
        the caller's transaction, with the frames registered.

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

    def _write_sync_state(self, state: SyncState) -> None:
        self._con.execute(
            read_statement("write_sync_state"),
            {
                **asdict(state),
                "pending_check_runs": " ".join(p.encode() for p in state.pending_check_runs),
            },
        )

    def _ai_rules(self) -> pl.DataFrame:
        return pl.read_csv(io.BytesIO(read_ai_rules()), schema=_AI_RULES_SCHEMA)

    def _fetch(
        self, statement: str, parameters: dict[str, object] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._errors_named():
            return self._con.execute(read_statement(statement), parameters).fetchall()

    @contextmanager
    def _frames(self) -> Iterator[Callable[..., None]]:
        """A function that makes each frame given queryable under its name (zero-copy through
        Arrow; a name given again is replaced), until the block ends. Open it before the
        transaction: the frames are unregistered after it ends, since an aborted transaction
        refuses to unregister."""
        names: set[str] = set()

        def register(**frames: pl.DataFrame) -> None:
            for name, frame in frames.items():
                self._con.register(name, frame.to_arrow())
                names.add(name)

        try:
            yield register
        finally:
            for name in names:
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
