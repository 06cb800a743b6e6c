"""The gate: requests of some tokens are held until each of them has asked, or until a timeout;
set and read over the admin endpoint too."""

from __future__ import annotations

import asyncio

import aiohttp

from ghsync.emulator import Emulator, EmulatorConfig, started_emulator
from tests.integration.emulator.conftest import OTHER, TOKEN, http

VIEWER = {"query": "{ viewer { login } }"}


async def ask(session: aiohttp.ClientSession, emulator: Emulator, token: str) -> str:
    headers = {"Authorization": f"bearer {token}"}
    async with session.post(emulator.graphql_url, json=VIEWER, headers=headers) as answer:
        body = await answer.json()
        return str(body["data"]["viewer"]["login"])


async def gate_state(emulator: Emulator, **expected: object) -> None:
    """Wait until the gate shows `expected` (it changes on the emulator's loop)."""
    async with asyncio.timeout(30):
        while not expected.items() <= (emulator.gate() or {}).items():
            await asyncio.sleep(0.01)


async def test_a_token_waits_until_the_other_has_asked() -> None:
    config = EmulatorConfig(repos=1, prs=5, tokens=(TOKEN, f"{OTHER}=bob"))
    async with started_emulator(config) as emulator, aiohttp.ClientSession() as session:
        emulator.set_gate(TOKEN, OTHER, timeout=60)
        first = asyncio.create_task(ask(session, emulator, TOKEN))
        await gate_state(emulator, held=1)
        assert not first.done()
        assert emulator.gate() == {
            "tokens": ["token-1", "token-2"],
            "waiting_for": ["token-2"],
            "held": 1,
            "opened": None,
        }
        assert await ask(session, emulator, OTHER) == "bob"  # the last one is not held
        assert await first == "viewer-1"
        assert (emulator.gate() or {})["opened"] == "arrived"
        assert await ask(session, emulator, TOKEN) == "viewer-1"  # open for good
        assert emulator.stats()["counters"]["requests"] == 3


async def test_the_gate_opens_after_its_timeout() -> None:
    config = EmulatorConfig(repos=1, prs=5, tokens=(TOKEN, f"{OTHER}=bob"))
    async with started_emulator(config) as emulator, aiohttp.ClientSession() as session:
        emulator.set_gate(TOKEN, OTHER, timeout=0.2)
        assert await ask(session, emulator, TOKEN) == "viewer-1"
        assert emulator.gate() == {
            "tokens": ["token-1", "token-2"],
            "waiting_for": ["token-2"],
            "held": 1,
            "opened": "timeout",
        }


def test_the_gate_over_the_admin_endpoint(fresh: Emulator) -> None:
    gate = f"{fresh.url}/_emulator/gate"
    assert http(gate).status == 404  # none set
    assert http(gate, {"tokens": ["token-9"]}).status == 422
    answer = http(gate, {"tokens": ["token-1", "token-2"], "timeout": 30})
    assert answer.json() == {
        "tokens": ["token-1", "token-2"],
        "waiting_for": ["token-1", "token-2"],
        "held": 0,
        "opened": None,
    }
    http(gate, {"tokens": ["token-2"]})  # a gate of one token opens at its first request
    assert http(fresh.graphql_url, VIEWER, token=OTHER).status == 200
    assert http(gate).json() == {
        "tokens": ["token-2"],
        "waiting_for": [],
        "held": 0,
        "opened": "arrived",
    }
