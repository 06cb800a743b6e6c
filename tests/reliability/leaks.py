"""Where a token could hide after a sync, and how to look: files as bytes (and the base64 and
pickles inside JSON result records), DuckDB and SQLite databases through SQL (DuckDB
compresses strings on disk, so a raw byte search alone could miss one)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb

TOKEN_SHAPE = re.compile(
    rb"(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,}"
    rb"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
"""Any GitHub token, whoever's (fake ones from other test modules count too), and any JWT (a
GitHub App's)."""


class Finder:
    """Finds the given tokens (and anything shaped like a token) in what it is shown."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.needles = {t.encode() for t in tokens}
        self.found: list[str] = []
        self.searched = 0

    def search(self, where: str, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.searched += 1
        hits = {n for n in self.needles if n in raw} | set(TOKEN_SHAPE.findall(raw))
        self.found += [f"{where}: {hit[:8]!r}…" for hit in hits]

    def search_file(self, path: Path) -> None:
        data = path.read_bytes()
        self.search(str(path), data)
        for index, text in enumerate(_encoded_strings(data)):
            self.search(f"{path} (decoded #{index})", text)

    def search_tree(self, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.search_file(path)

    def search_duckdb(self, path: Path) -> None:
        with duckdb.connect(str(path), read_only=True) as connection:
            tables = connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
            for (table,) in tables:
                rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
                self.search(f"{path}:{table}", repr(rows))

    def search_sqlite(self, path: Path) -> int:
        """Every row of every table; returns the number of rows read."""
        count = 0
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for (table,) in tables.fetchall():
                rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
                count += len(rows)
                self.search(f"{path}:{table}", repr(rows))
        return count


def _encoded_strings(data: bytes) -> Iterator[bytes]:
    """Base64 payloads inside a JSON file (Prefect's result records hold pickles so)."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return
    for text in _strings(document):
        if len(text) >= 16:
            try:
                yield base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                continue


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
