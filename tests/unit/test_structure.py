"""The import rules of the layout (README "Layout", DESIGN.md): flows -> ghsync, never back;
the library imports no Prefect but for the CLI's named entry points; github/ knows nothing of
the store and the store nothing of HTTP; the emulator imports no client code; the library never
reads the environment itself; `ghsync.__all__` is the public API flows/ imports from."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import ghsync

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "ghsync"
EMULATOR = LIBRARY / "emulator"


@dataclass(frozen=True)
class Import:
    path: Path
    module: str
    names: tuple[str, ...]
    in_function: bool

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}: {self.module}"


def imports(folder: Path) -> Iterator[Import]:
    """Every import statement of the Python files under `folder`, absolute module names."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        functions = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        nested = {id(inner) for fn in functions for inner in ast.walk(fn) if inner is not fn}
        for node in ast.walk(tree):
            in_function = id(node) in nested
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(path, alias.name, (), in_function)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = tuple(alias.name for alias in node.names)
                yield Import(path, node.module, names, in_function)


def top(module: str) -> str:
    return module.split(".", 1)[0]


def test_the_library_imports_no_prefect_and_no_flows_but_the_cli_entry_points() -> None:
    wrong = [
        found.where()
        for found in imports(LIBRARY)
        if top(found.module) in ("prefect", "flows")
        and not (found.path.name == "cli.py" and found.in_function)
    ]
    assert wrong == []


def test_flows_import_the_library_through_its_public_api() -> None:
    """flows/ imports `from ghsync import ...` (names in __all__), or the emulator (the demo)."""
    wrong = []
    for found in imports(ROOT / "flows"):
        if top(found.module) != "ghsync" or found.module.startswith("ghsync.emulator"):
            continue
        if found.module != "ghsync" or not set(found.names) <= set(ghsync.__all__):
            wrong.append(f"{found.where()} {found.names}")
    assert wrong == []


def test_the_emulator_imports_no_client_code() -> None:
    """The emulator stays an independent check of the client: it imports only itself."""
    wrong = [
        found.where()
        for found in [*imports(EMULATOR), *imports_of(LIBRARY / "emulator_cli.py")]
        if top(found.module) in ("ghsync", "flows")
        and not found.module.startswith("ghsync.emulator")
    ]
    assert wrong == []


def imports_of(path: Path) -> list[Import]:
    return [found for found in imports(path.parent) if found.path == path]


def test_github_knows_no_store_and_the_store_no_http() -> None:
    store = ("duckdb", "polars", "ghsync.warehouse", "ghsync.writer", "ghsync.frames")
    http = ("aiohttp", "gql", "graphql", "ghsync.github")
    wrong = [
        found.where()
        for found in imports(LIBRARY / "github")
        if found.module.startswith(store) or found.module.startswith("ghsync.records")
    ]
    wrong += [
        found.where()
        for found in imports_of(LIBRARY / "warehouse.py") + imports_of(LIBRARY / "writer.py")
        if found.module.startswith(http)
    ]
    assert wrong == []


def test_the_library_never_reads_the_environment() -> None:
    """Settings (pydantic-settings) read it once, at the edges; nothing else does."""
    wrong = []
    for path in sorted(LIBRARY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


def test_all_is_the_whole_public_api() -> None:
    """Every name the package exports is in __all__ once, and nothing else (ruff sorts it)."""
    public = {
        name
        for name, value in vars(ghsync).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert set(ghsync.__all__) == public
    assert len(ghsync.__all__) == len(set(ghsync.__all__))
