"""The emulator as its own process (`ghsync emulator serve`), as benchmarks use it: its CPU
work then does not share a GIL with the client being measured."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def emulator_process(*arguments: str) -> Iterator[str]:
    """Start `ghsync emulator serve --port 0 ARGUMENTS...`; yield its base URL; stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ghsync.cli", "emulator", "serve", "--port", "0", *arguments],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"on (http://[\d.]+:\d+)", line)
        if not found:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
