"""A command on a pseudo-terminal, as a person runs it: its output read as it comes, Ctrl-C
typed on its keyboard (the terminal sends SIGINT to its foreground process group).

The command leads a session of its own whose controlling terminal is the pty, so the kernel's
line discipline delivers Ctrl-C as it does in a real terminal. Output is drained by a thread
(a full pty would block the program) and waited on by pattern, never by time.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

COLUMNS, ROWS = 160, 40
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


def _take_terminal() -> None:
    """In the child, after setsid: make the pty on stdin the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`argv` running on a new pty of COLUMNS x ROWS; `text()` is what it printed so far,
    without terminal escapes."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS)},
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self._master = master
        self._raw = bytearray()
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: every holder of the pty's other end has exited
                chunk = b""
            with self._changed:
                if not chunk:
                    self._raw += b"\0"  # the end, as a marker
                    self._changed.notify_all()
                    return
                self._raw += chunk
                self._changed.notify_all()

    def text(self) -> str:
        with self._changed:
            raw = bytes(self._raw).rstrip(b"\0")
        return ANSI.sub(b"", raw).decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 180.0) -> re.Match[str]:
        """The first match of `pattern` in the output; AssertionError if the program ends or
        `timeout` passes without it."""
        deadline = time.monotonic() + timeout
        compiled = re.compile(pattern)
        with self._changed:
            while True:
                found = compiled.search(self.text())
                if found:
                    return found
                left = deadline - time.monotonic()
                if self._raw.endswith(b"\0") or left <= 0:
                    raise AssertionError(f"no {pattern!r} in the output:\n{self.text()[-3000:]}")
                self._changed.wait(left)

    def press_ctrl_c(self) -> None:
        os.write(self._master, b"\x03")

    def wait(self, timeout: float) -> int:
        """The exit code (subprocess.TimeoutExpired if it runs longer than `timeout`)."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self._reader.join(timeout=10)
        os.close(self._master)


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and theirs (Linux /proc)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:  # the task or the process ended meanwhile
                continue
            for child in map(int, children):
                if child not in found:
                    found.append(child)
                    pending.append(child)
    return found


def wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    """Wait until every process of `pids` (not this one's children) has exited, for `timeout`
    seconds at most; the ones still running."""
    deadline = time.monotonic() + timeout
    running = []
    for pid in pids:
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        with os.fdopen(handle) as watched:  # readable once the process exits
            if not select.select([watched], [], [], max(0.0, deadline - time.monotonic()))[0]:
                running.append(pid)
    return running
