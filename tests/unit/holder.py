"""Another program holding a warehouse file open (as the DuckDB shell does), in a process of
its own: DuckDB's lock is per process, so only another process shows it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLD = textwrap.dedent(
    """
    import sys, duckdb
    connection = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.read()  # hold the file until the test closes our stdin
    """
)


@contextmanager
def holding(path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process with the DuckDB file at `path` open for writing for the block (it has it open
    when the block starts); the process ends with the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
