"""What `ghsync sync` shows while it runs, on stderr: on a terminal, live progress (rich) per
repository and for the whole run; elsewhere (CI, a log file, a pipe), at most one line per page.
And where Prefect's own log lines go: to a log file in PREFECT_HOME, warnings also shown, or
(`--verbose`) all of them on the display.

The displays are the run's listener (`ghsync.events.SyncListener`): called on the flow's event
loop, in the flow's thread, so they keep what they heard under a lock.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ghsync.events import PageLoaded, Spent
from ghsync.github.tokens import TokenState
from ghsync.outcome import RepoOutcome, repositories

LOGS_KEPT = 20
"""Log files of earlier runs kept in PREFECT_HOME/logs (the newest)."""


class Display:
    """Keeps what the run told: the repositories in order, their outcomes, the spending."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.order: list[str] = []
        self.outcomes: dict[str, RepoOutcome] = {}
        self.spent = Spent(0, 0, ())
        self._prs: dict[str, int] = {}

    def outcomes_in_order(self) -> list[RepoOutcome]:
        with self._lock:
            return [self.outcomes[repo] for repo in self.order if repo in self.outcomes]

    def checked(self, expected: Mapping[str, int | None], spent: Spent) -> None:
        with self._lock:
            self.order, self.spent = list(expected), spent
            self._checked(expected)

    def loaded(self, page: PageLoaded, spent: Spent) -> None:
        with self._lock:
            self.spent, self._prs[page.repo] = spent, page.prs
            self._loaded(page)

    def finished(self, outcome: RepoOutcome, spent: Spent) -> None:
        with self._lock:
            self.outcomes[outcome.repo], self.spent = outcome, spent
            self._prs[outcome.repo] = outcome.prs
            self._finished(outcome)

    def overall(self) -> str:
        """`2/5 repositories done · 300 PRs · 42 points in 12 requests · ghp_…aaaa 4,958 left,
        ghp_…bbbb 0 left (parked)`"""
        with self._lock:
            spent, prs = self.spent, sum(self._prs.values())
            parts = [
                f"{len(self.outcomes)}/{len(self.order)} repositories done",
                f"{prs:,} PRs",
                f"{spent.points:,} points in {spent.requests:,} requests",
            ]
        tokens = ", ".join(
            (f"{t.mask} {t.remaining:,} left" if t.remaining is not None else f"{t.mask} ?")
            + ("" if t.state is TokenState.READY else f" ({t.state})")
            for t in spent.tokens
        )
        return " · ".join([*parts, tokens] if tokens else parts)

    def status(self, text: str) -> None:
        """What the run does before its repositories (the server's start, the check)."""

    def show(self, line: str) -> None:
        """A line above the progress (a warning, a log record)."""

    def start(self) -> None:
        """Start showing."""

    def stop(self, keep: bool = False) -> None:
        """Stop showing; `keep`: leave the last picture on the terminal (an interruption)."""

    def _checked(self, expected: Mapping[str, int | None]) -> None: ...

    def _loaded(self, page: PageLoaded) -> None: ...

    def _finished(self, outcome: RepoOutcome) -> None: ...


class LiveDisplay(Display):
    """A bar per repository being synced (PRs done / expected, pages, points, ETA) and the
    run's line (repositories done, PRs, points, each token's points left), redrawn 4 times a
    second. Left on the terminal only when the run was interrupted."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._repos = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            TextColumn("{task.completed}/~{task.total} PRs · page {task.fields[pages]}"),
            TextColumn("· {task.fields[points]} points · ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._run = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        )
        self._run_task = self._run.add_task("starting", total=None)
        self._rows: dict[str, TaskID] = {}
        self._live = Live(
            Group(self._repos, self._run), console=console, transient=True, refresh_per_second=4
        )

    def start(self) -> None:
        self._live.start()

    def stop(self, keep: bool = False) -> None:
        self._live.transient = not keep
        self._live.stop()

    def status(self, text: str) -> None:
        self._run.update(self._run_task, description=text)

    def show(self, line: str) -> None:
        self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _checked(self, expected: Mapping[str, int | None]) -> None:
        self._run.update(self._run_task, description=self.overall())

    def _loaded(self, page: PageLoaded) -> None:
        row = self._rows.get(page.repo)
        if row is None:
            row = self._repos.add_task(page.repo, total=page.expected, pages=0, points=0)
            self._rows[page.repo] = row
        total = max(page.expected, page.prs)
        self._repos.update(
            row, completed=page.prs, total=total, pages=page.page, points=page.points
        )
        self._run.update(self._run_task, description=self.overall())

    def _finished(self, outcome: RepoOutcome) -> None:
        row = self._rows.pop(outcome.repo, None)
        if row is not None:
            self._repos.remove_task(row)
        self._run.update(self._run_task, description=self.overall())


class LineDisplay(Display):
    """Plain lines on `stream`: one per page loaded, and the run's phases."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._started: dict[str, float] = {}

    def status(self, text: str) -> None:
        self.show(text)

    def show(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def _checked(self, expected: Mapping[str, int | None]) -> None:
        started = time.monotonic()
        self._started = dict.fromkeys(expected, started)
        self.show(f"{repositories(len(expected))} to sync; {self.overall()}")

    def _loaded(self, page: PageLoaded) -> None:
        elapsed = time.monotonic() - self._started.get(page.repo, time.monotonic())
        left = max(0, page.expected - page.prs)
        eta = f", ETA {elapsed * left / page.prs:.0f} s" if page.prs and left else ""
        self.show(
            f"{page.repo}: page {page.page}, {page.prs}/~{page.expected} PRs, "
            f"{page.points} points{eta}"
        )


def display_for(console: Console) -> Display:
    """Live progress when stderr is a terminal, else lines."""
    if console.is_terminal:
        return LiveDisplay(console)
    return LineDisplay(sys.stderr)


SHOWN_WARNINGS = ("ghsync", "prefect.flow_runs", "prefect.task_runs")
"""The loggers whose warnings are shown (ghsync's and the run's: a slot freed, a shell holding
the file, a page retried smaller), not Prefect's own (its client's retries, its queues)."""


class _Shown(logging.Handler):
    """Log records on the display: every record formatted (`--verbose`), or the run's warnings'
    own message (`warning: ...`): errors reach the user as the run's outcome instead, without
    the traceback Prefect logs with them."""

    def __init__(self, display: Display, every: bool) -> None:
        super().__init__(logging.DEBUG if every else logging.WARNING)
        self._display = display
        self._every = every

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._every:
                self._display.show(self.format(record))
            elif record.levelno == logging.WARNING and record.name.startswith(SHOWN_WARNINGS):
                self._display.show(f"warning: {record.getMessage()}")
        except Exception:
            self.handleError(record)


def route_logs(display: Display, log_file: Path | None) -> None:
    """Replace the console handlers of every logger (Prefect puts its own on the root logger,
    uvicorn, fastapi and its internals): by `log_file` (in their format) and the warnings on
    the display, or (`log_file` None: `--verbose`) by every record on the display."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    written: logging.FileHandler | None = None
    for logger in loggers:
        for handler in list(logger.handlers):
            if not _on_console(handler):
                continue
            logger.removeHandler(handler)
            shown = _Shown(display, every=log_file is None)
            shown.setFormatter(handler.formatter)
            logger.addHandler(shown)
            if log_file is not None:
                if written is None:  # in the format of the first (the root logger's)
                    written = logging.FileHandler(log_file, encoding="utf-8")
                    written.setFormatter(handler.formatter)
                logger.addHandler(written)


def _on_console(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    consoles = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return (
        not isinstance(handler, logging.FileHandler)
        and stream is not None
        and any(stream is console for console in consoles)
    )


def new_log_file(directory: Path, command: str) -> Path:
    """DIRECTORY/ghsync-COMMAND-TIME-PID.log for this run; the oldest beyond LOGS_KEPT are
    removed."""
    directory.mkdir(parents=True, exist_ok=True)
    earlier = sorted(directory.glob("ghsync-*.log"), key=lambda path: path.stat().st_mtime)
    for path in earlier[: max(0, len(earlier) - LOGS_KEPT + 1)]:
        path.unlink(missing_ok=True)
    return directory / f"ghsync-{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
