"""The warehouse's SQL and rule files, read through the package so an installed ghsync has them.

They live in the repository's `warehouse/` directory; `ghsync/sql` is a link to it that the
build copies into the wheel (package data), so `importlib.resources` finds them either way:
    migrations/NNN_name.sql  schema migrations, applied once each in version order
    views/<view>.sql         one `CREATE OR REPLACE VIEW <view>` per file, re-created on migrate
    statements/<name>.sql    the statements ghsync/warehouse.py runs
    report/<name>.sql        the queries of `ghsync report` (ghsync/report.py)
    examples/NN_name.sql     example questions (first line: `-- the question`), shown by the demo
    ai_rules.csv             the AI-detection rules (see warehouse/README.md)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from importlib import resources
from importlib.resources.abc import Traversable

_MIGRATION_NAME = re.compile(r"^(\d{3})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema migration file: `NNN_name.sql`."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class View:
    """One view file: `views/<name>.sql` defines the view `<name>`."""

    name: str
    sql: str


def _root() -> Traversable:
    return resources.files("ghsync").joinpath("sql")


def _sql_files(folder: str) -> list[Traversable]:
    entries = _root().joinpath(folder).iterdir()
    return sorted((e for e in entries if e.name.endswith(".sql")), key=lambda e: e.name)


@cache
def read_statement(name: str) -> str:
    """The text of `statements/<name>.sql`."""
    return _root().joinpath("statements", f"{name}.sql").read_text(encoding="utf-8")


@cache
def read_report_query(name: str) -> str:
    """The text of `report/<name>.sql`."""
    return _root().joinpath("report", f"{name}.sql").read_text(encoding="utf-8")


def list_migrations() -> list[Migration]:
    """Every migration, in version order; a file not named `NNN_name.sql` is an error."""
    migrations = []
    for entry in _sql_files("migrations"):
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            raise ValueError(f"warehouse/migrations/{entry.name}: expected NNN_name.sql")
        version, name = int(match.group(1)), match.group(2)
        migrations.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"warehouse/migrations: duplicate version numbers in {versions}")
    return migrations


def list_views() -> list[View]:
    """Every view, ordered so that a view comes after the views its SQL names."""
    views = {
        e.name.removesuffix(".sql"): View(e.name.removesuffix(".sql"), e.read_text("utf-8"))
        for e in _sql_files("views")
    }
    graph = TopologicalSorter[str]()
    for name, view in views.items():
        uses = [other for other in views if other != name and _names(view.sql, other)]
        graph.add(name, *uses)
    return [views[name] for name in graph.static_order()]


def read_ai_rules() -> bytes:
    """The raw `ai_rules.csv` (header: tool,kind,pattern,note)."""
    return _root().joinpath("ai_rules.csv").read_bytes()


def schema_digest() -> str:
    """A digest of what `Warehouse.migrate` applies (migrations, views, AI rules): stored with
    them, so a warehouse already up to date is not written at all when opened (on a DuckLake,
    many processes open it at once, and each rewrite of the views would conflict with the
    others')."""
    digest = hashlib.sha256(read_ai_rules())
    for migration in list_migrations():
        digest.update(migration.sql.encode())
    for view in list_views():
        digest.update(view.sql.encode())
    return digest.hexdigest()


def _names(sql: str, identifier: str) -> bool:
    code = re.sub(r"--[^\n]*", "", sql)  # a view named in a comment is no dependency
    return re.search(rf"\b{re.escape(identifier)}\b", code) is not None


@dataclass(frozen=True)
class Example:
    """An example question and its SQL: `examples/NN_name.sql`, the question on line one."""

    question: str
    sql: str


def list_examples() -> list[Example]:
    """The example questions, in file order."""
    examples = []
    for entry in _sql_files("examples"):
        text = entry.read_text(encoding="utf-8")
        first, _, sql = text.partition("\n")
        examples.append(Example(first.removeprefix("--").strip(), sql.strip().rstrip(";")))
    return examples
