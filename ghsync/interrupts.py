"""Ctrl-C and SIGTERM for a flow run in this process (`ghsync sync`, `ghsync demo`).

The flow runs on an event loop in a thread of its own, and the main thread keeps the signals:
Prefect's flow engine replaces the SIGTERM handler of the main thread while a flow runs (its
handler turns SIGTERM into a crash, then kills the process with SIGTERM again), and a Ctrl-C
that raises KeyboardInterrupt at a random point of Prefect's code left tasks Crashed and the
process waiting on them. Here the first signal cancels the flow's main task: requests in flight
are cancelled, the pages loaded stay (each page is one transaction with its sync state), and the
open sync session stays in the warehouse for the next run to resume. If the run has not ended
`GRACE_SECONDS` after the signal (or at a second signal), the process exits at once: what a
SIGKILL leaves is resumable too, this only skips the goodbyes to the Prefect server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

INTERRUPTED = "interrupted: run the same command again to resume"
EXIT_CODE = 130
GRACE_SECONDS = 8.0
"""From the signal to the process's end at the latest (the issue asks for 10 s)."""
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM asked the run to stop (a BaseException, as KeyboardInterrupt is)."""


class Interrupts:
    """The SIGINT and SIGTERM handlers of a run (`install` them in the main thread first), and
    `run`, which runs the flow. A signal before the flow (the checks, the server's start)
    raises Interrupted where the main thread is; during the flow it cancels the flow; after it
    (the outcome is printed, the process ends) it ends the process at once, as a second signal
    does at any time. `before_exit` is called when the process must end at once (kill what it
    started)."""

    def __init__(self, before_exit: Callable[[], None], grace: float = GRACE_SECONDS) -> None:
        self._before_exit = before_exit
        self._grace = grace
        self._lock = threading.RLock()  # the handler runs in the thread that may hold it
        self._fired = False
        self._said = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._phase = "before"
        """before, during or after the flow."""

    def install(self) -> Interrupts:
        """Handle SIGINT and SIGTERM from now on, for the rest of the process."""
        for number in SIGNALS:
            signal.signal(number, self._handle)
        return self

    def run(self, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """`main()` on an event loop of its own in a thread, in a copy of this context;
        returns its result or raises its error, and Interrupted after a signal."""
        result: list[T] = []
        error: list[BaseException] = []

        async def guarded() -> T:
            with self._lock:
                self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
                if self._fired:
                    raise asyncio.CancelledError
            return await main()

        def thread() -> None:
            try:
                result.append(asyncio.run(guarded()))
            except BaseException as raised:
                error.append(raised)

        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(thread,), name="ghsync-flow")
        with self._lock:
            self._phase = "during"
        worker.start()
        worker.join()
        with self._lock:
            self._phase, self._loop, self._task = "after", None, None
        if self._fired:
            raise Interrupted
        if error:
            raise error[0]
        return result[0]

    def say(self) -> None:
        """Print the one line of an interrupted run (once, whoever calls first)."""
        with self._lock:
            if self._said:
                return
            self._said = True
        print(INTERRUPTED, file=sys.stderr, flush=True)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self._fired or self._phase == "after":
            self._exit_now()
        self._fired = True
        deadline = threading.Timer(self._grace, self._exit_now)
        deadline.daemon = True
        deadline.start()
        with self._lock:
            if self._phase == "before":
                raise Interrupted  # the checks, the server's start: stop right here
            if self._task is None or self._loop is None:
                return  # the flow's thread is starting: it sees `_fired` and stops
            with contextlib.suppress(RuntimeError):  # the loop closed: the flow is over
                self._loop.call_soon_threadsafe(self._task.cancel)

    def _exit_now(self) -> None:
        try:
            self._before_exit()
            self.say()
        finally:
            os._exit(EXIT_CODE)
