"""Start and stop the emulator: in the caller's event loop, in a background thread, or forever.

`Emulator` is the handle tests use: URLs, and the admin operations as plain method calls (run
on the server's loop, so a test thread never races a request being served).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from aiohttp import web

from ghsync.emulator.config import EmulatorConfig, FaultConfig
from ghsync.emulator.gate import Gate
from ghsync.emulator.server import apply_and_prepare, build_app
from ghsync.emulator.state import EmulatorState
from ghsync.emulator.truth import repository_truth, summary

T = TypeVar("T")


class Emulator:
    """A running emulator: where it listens, and its admin operations."""

    def __init__(self, state: EmulatorState, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.state = state
        self.url = url
        self._loop = loop

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def api_url(self) -> str:
        return self.url

    def _here(self) -> bool:
        """On the server's loop (or it is not running): nothing can be handed to it."""
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        return on_loop or not self._loop.is_running()

    def _call(self, action: Callable[[], T]) -> T:
        """Run `action` on the server's loop (directly when already on it)."""
        if self._here():
            return action()

        async def wrapped() -> T:
            return action()

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result()

    def set_faults(self, faults: FaultConfig | None = None, **changes: Any) -> FaultConfig:
        """Replace the faults, or change some of their fields."""

        def apply() -> FaultConfig:
            self.state.faults = (faults or self.state.faults).merged(changes)
            return self.state.faults

        return self._call(apply)

    def set_token_budget(
        self, token: str, remaining: int | None = None, reset_in: float | None = None
    ) -> None:
        """Force the remaining points and/or the seconds until the reset of the budget of the
        token's account (shared by the account's tokens)."""
        self._call(lambda: self.state.limits.set_budget(token, remaining, reset_in))

    def set_gate(self, *tokens: str, timeout: float = 60.0) -> None:
        """Hold the GraphQL requests of `tokens` until each of them has sent one (or for
        `timeout` seconds at most): runs using them certainly overlap."""

        def apply() -> None:
            self.state.gate = Gate([self.state.limits.labels[t] for t in tokens], timeout)

        self._call(apply)

    def gate(self) -> dict[str, Any] | None:
        """The gate's state: tokens, waiting_for, held, opened ("arrived", "timeout" or None)."""
        return self._call(lambda: self.state.gate.snapshot() if self.state.gate else None)

    def stats(self) -> dict[str, Any]:
        """Requests, answers by kind, points charged per token (named `token-N`)."""
        return self._call(self.state.stats_snapshot)

    def reset_stats(self) -> None:
        """Zero the counters (not the budgets)."""

        def reset() -> None:
            self.state.stats.clear()
            self.state.points.clear()

        self._call(reset)

    def truth(self, repo: str) -> dict[str, Any] | None:
        """The complete ground truth of one repository (`owner/name`)."""
        owner, _, name = repo.partition("/")
        return self._call(lambda: repository_truth(self.state.world, owner, name))

    def activity(self, action: str, repo: str, number: int | None = None) -> dict[str, Any]:
        """Change a pull request as a team would (see `activity.ACTIONS`) and send the webhook
        deliveries it causes, as `POST /_emulator/activity` does. With a webhook, call it from
        another thread than the server's; on the server's loop, `await activity_async(...)`."""
        if self.state.webhooks.url is not None and self._here():
            raise RuntimeError("webhook deliveries need the server's loop: use activity_async")
        answer, deliveries = self._call(lambda: apply_and_prepare(self.state, action, repo, number))
        if deliveries:
            sending = self.state.webhooks.send(deliveries)
            asyncio.run_coroutine_threadsafe(sending, self._loop).result()
        return {**answer, "deliveries": [d.summary() for d in deliveries]}

    async def activity_async(
        self, action: str, repo: str, number: int | None = None
    ) -> dict[str, Any]:
        """`activity` on the server's own loop (an emulator of `started_emulator`)."""
        answer, deliveries = apply_and_prepare(self.state, action, repo, number)
        await self.state.webhooks.send(deliveries)
        return {**answer, "deliveries": [d.summary() for d in deliveries]}

    def deliveries(self) -> list[dict[str, Any]]:
        """The webhook deliveries sent so far: id, event, action, status (no bodies)."""
        return self._call(lambda: [d.summary() for d in self.state.webhooks.sent.values()])

    def uninstall(self, installation_id: int) -> None:
        """Remove an app installation: its tokens answer 401, no new one can be minted."""

        def apply() -> None:
            self.state.limits.uninstall(installation_id)

        self._call(apply)

    def summary(self) -> dict[str, Any]:
        """Counts of what is served, per repository."""
        return self._call(lambda: summary(self.state.world))


@asynccontextmanager
async def started_emulator(
    config: EmulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[Emulator]:
    """Serve in the running event loop (port 0: a free port). `clock` (epoch seconds) times
    the rate-limit windows: tests pass one they advance instead of waiting for a reset."""
    state = EmulatorState(config, clock)
    runner = web.AppRunner(build_app(state), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    try:
        yield Emulator(state, f"http://{bound_host}:{bound_port}", asyncio.get_running_loop())
    finally:
        await runner.cleanup()


@contextmanager
def running_emulator(
    config: EmulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
) -> Iterator[Emulator]:
    """Serve from a background thread with its own loop, for synchronous callers and tests."""
    loop = asyncio.new_event_loop()
    ready: list[Emulator] = []
    started = threading.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    async def serve() -> None:
        try:
            async with started_emulator(config, host, port, clock) as emulator:
                ready.append(emulator)
                started.set()
                await stop.wait()
        except BaseException as error:  # reported to the caller below
            failure.append(error)
            started.set()

    thread = threading.Thread(
        target=loop.run_until_complete, args=(serve(),), name="ghsync-emulator", daemon=True
    )
    thread.start()
    started.wait()
    if failure:
        raise failure[0]
    try:
        yield ready[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


async def serve(
    config: EmulatorConfig, host: str, port: int, on_ready: Callable[[Emulator], None]
) -> None:
    """Serve until cancelled (the `ghsync emulator serve` command runs this)."""
    async with started_emulator(config, host, port) as emulator:
        on_ready(emulator)
        await asyncio.Event().wait()
