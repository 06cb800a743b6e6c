"""A gate for tests: the GraphQL requests of some tokens are held until each of those tokens has
sent one, so runs that use them certainly overlap (no sleeps, no wall-clock spans).

`POST /_emulator/gate {"tokens": ["token-1", "token-2"], "timeout": 120}` sets it (tokens
named as in `stats`); `GET /_emulator/gate` tells whether it opened, how, and how many requests
it held. After `timeout` seconds it opens anyway (and says so), so a broken client cannot hang
a test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ghsync.emulator.responses import json_response
from ghsync.emulator.state import STATE, EmulatorState


class Gate:
    """Holds requests of `tokens` (labels `token-N`) until every one of them has asked."""

    def __init__(self, tokens: Iterable[str], timeout: float) -> None:
        self.tokens = sorted(set(tokens))
        self.waiting_for = set(self.tokens)
        self.held = 0
        self.opened: str | None = None
        """None while closed, "arrived" when every token asked, "timeout" otherwise."""
        self._open = asyncio.Event()
        self._deadline = asyncio.get_running_loop().time() + timeout

    async def admit(self, token: str) -> None:
        """Return when a request of `token` may be served."""
        if token not in self.tokens or self._open.is_set():
            return
        self.waiting_for.discard(token)
        if not self.waiting_for:
            self._release("arrived")
            return
        self.held += 1
        remaining = self._deadline - asyncio.get_running_loop().time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), max(remaining, 0.0))
        self._release("timeout")

    def snapshot(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "waiting_for": sorted(self.waiting_for),
            "held": self.held,
            "opened": self.opened,
        }

    def _release(self, how: str) -> None:
        if not self._open.is_set():
            self.opened = how
            self._open.set()


async def handle_gate(request: web.Request) -> web.Response:
    state: EmulatorState = request.app[STATE]
    if request.method == "POST":
        payload = await request.json()
        tokens = payload.get("tokens")
        known = set(state.limits.labels.values())
        if not isinstance(tokens, list) or not tokens or not set(tokens) <= known:
            return json_response({"message": f"tokens: a list of {sorted(known)}"}, 422)
        state.gate = Gate(tokens, float(payload.get("timeout", 60)))
    if state.gate is None:
        return json_response({"message": "no gate"}, 404)
    return json_response(state.gate.snapshot())


def add_gate_routes(app: web.Application) -> None:
    app.router.add_route("GET", "/_emulator/gate", handle_gate)
    app.router.add_route("POST", "/_emulator/gate", handle_gate)
