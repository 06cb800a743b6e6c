"""The emulator as its own process (`ghsync emulator serve`), as a user starts it and as
benchmarks use it: its CPU work then does not share a GIL with the client being measured."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class EmulatorProcess:
    """A running emulator: its base URL, first output line, counters (admin API), CPU time."""

    url: str
    banner: str
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stats(self) -> dict[str, Any]:
        """`GET /_emulator/stats`: requests, `op:*` counters, points per token."""
        with urllib.request.urlopen(f"{self.url}/_emulator/stats") as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def reset(self) -> None:
        """Zero the counters."""
        request = urllib.request.Request(f"{self.url}/_emulator/stats", method="DELETE")
        urllib.request.urlopen(request).close()

    def activity(self, action: str, repo: str, number: int) -> None:
        """`POST /_emulator/activity`: change a pull request (or its CI)."""
        body = json.dumps({"repo": repo, "action": action, "number": number}).encode()
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}/_emulator/activity", body, headers)
        urllib.request.urlopen(request).close()

    def truth(self, repo: str) -> dict[str, Any]:
        """`GET /_emulator/truth/{repo}`: every PR with every nested list complete."""
        with urllib.request.urlopen(f"{self.url}/_emulator/truth/{repo}") as answer:
            truth: dict[str, Any] = json.load(answer)
        return truth

    def cpu_seconds(self) -> float:
        """User + system CPU time of the emulator process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def emulator_process(*arguments: str) -> Iterator[EmulatorProcess]:
    """Start `ghsync emulator serve --port 0 ARGUMENTS...`; yield it; stop it."""
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
        yield EmulatorProcess(found.group(1), line, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a graceful stop waits for idle keep-alive clients
            process.kill()
            process.wait()
