"""Where the warehouse lives: a DuckDB file (the embedded default) or a DuckLake.

A DuckLake keeps DuckDB's SQL with its catalog in a database many processes share (PostgreSQL)
and its data in Parquet files under a data path (a shared folder or an object store), so syncs
on many machines write one warehouse at once. GHSYNC_DB (or `--db`) names it as DuckLake's own
connection string with the data path as one more key:

    ducklake:postgres:dbname=lake host=pg.internal user=ghsync data_path=/mnt/lake/

The catalog part goes to libpq as it is. A password in it is refused: the location is a flow
parameter (stored by Prefect in plain text) and appears in messages; libpq reads it from
PGPASSWORD or ~/.pgpass instead. `data_path` is needed by the first process that creates the lake
only: DuckLake records it in the catalog. The extensions come from the package index
(`duckdb-extension-ducklake`, `duckdb-extension-postgres-scanner`), loaded from their files:
nothing is downloaded at run time.

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints: the migrations' constraints are
dropped there (`without_constraints`), and no statement of the loader relies on them (keys are
kept by delete-then-insert and MERGE, in both stores).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ghsync.errors import ConfigError

PREFIX = "ducklake:"
ALIAS = "lake"
"""The name the lake is attached under (and made the default catalog)."""
_DATA_PATH = re.compile(r"(?:^|\s)data_path=(\S+)")
_PASSWORD = re.compile(r"(?:^|\s)password=")


@dataclass(frozen=True)
class Lake:
    """A DuckLake location: the catalog's connection string (after `ducklake:`) and the data
    path (None: the one the catalog recorded)."""

    catalog: str
    data_path: str | None = None

    @classmethod
    def parse(cls, text: str) -> Lake | None:
        """The lake `text` names, or None when it names a DuckDB file; ConfigError for a
        location holding a password."""
        if not text.startswith(PREFIX):
            return None
        rest = text[len(PREFIX) :]
        if _PASSWORD.search(rest):
            raise ConfigError(
                "GHSYNC_DB (or --db) holds the catalog's password: remove password=... and set "
                "PGPASSWORD or ~/.pgpass instead (a location is stored and printed as it is)"
            )
        found = _DATA_PATH.search(rest)
        catalog = _DATA_PATH.sub("", rest).strip() if found else rest.strip()
        return cls(catalog, found.group(1) if found else None)

    def __str__(self) -> str:
        """The location as GHSYNC_DB writes it (no password: `parse` refuses one)."""
        data = f" data_path={self.data_path}" if self.data_path else ""
        return f"{PREFIX}{self.catalog}{data}"

    def extensions(self) -> list[Path]:
        """The extension files this lake needs, for this DuckDB."""
        needed = ["ducklake"] + (
            ["postgres_scanner"] if self.catalog.startswith("postgres:") else []
        )
        return [extension_file(name) for name in needed]

    def attach(self, connection: duckdb.DuckDBPyConnection, *, read_only: bool) -> None:
        """Attach the lake to `connection` as its default catalog, the extensions loaded from
        their packages."""
        for extension in self.extensions():
            connection.execute(f"LOAD '{extension}'")
        connection.execute(self.attach_sql(read_only=read_only))
        connection.execute(f"USE {ALIAS}")

    def attach_sql(self, *, read_only: bool) -> str:
        options = [f"DATA_PATH {_quoted(self.data_path)}"] if self.data_path else []
        options += ["READ_ONLY"] if read_only else []
        suffix = f" ({', '.join(options)})" if options else ""
        return f"ATTACH {_quoted(PREFIX + self.catalog)} AS {ALIAS}{suffix}"


Location = Path | Lake
"""A warehouse: the path of its DuckDB file, or a DuckLake."""


def parse_location(text: str | Path) -> Location:
    """The warehouse GHSYNC_DB or `--db` names."""
    return Lake.parse(str(text)) or Path(text)


def extension_file(name: str) -> Path:
    """The file of DuckDB extension `name` from its package (duckdb-extension-<name with
    dashes>), for the installed DuckDB version."""
    module = f"duckdb_extension_{name}"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the package {module.replace('_', '-')} is not installed")
    folder = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}"
    return folder / f"{name}.duckdb_extension"


def without_constraints(sql: str) -> str:
    """`sql` (a migration) without PRIMARY KEY and CHECK constraints, which DuckLake refuses:
    a column's `PRIMARY KEY` (NOT NULL instead) or `CHECK (...)`, and a table's `, PRIMARY KEY
    (...)` line (its columns are NOT NULL already). The
    comments go first (a migration has no `--` inside a string); that every migration becomes
    the same tables on DuckLake is tested (tests/integration/test_lake.py)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", sql)
    sql = re.sub(r"\s+PRIMARY KEY\b", " NOT NULL", sql)  # a key column is never null
    return _drop_checks(sql)


def _drop_checks(sql: str) -> str:
    """`sql` without its `CHECK (...)` clauses (their parentheses balanced)."""
    out: list[str] = []
    position = 0
    for found in re.finditer(r"\s+CHECK\s*\(", sql):
        if found.start() < position:
            continue
        depth, end = 1, found.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        out.append(sql[position : found.start()])
        position = end
    return "".join(out) + sql[position:]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
