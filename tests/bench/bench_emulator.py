"""Requests/s the emulator serves for a 50-PR page query (FACTS.md's, 7 nested connections),
with the emulator in its own process (`ghsync emulator serve`) and aiohttp clients here.

Run: .venv/bin/python -m tests.bench.bench_emulator [--seconds 10] [--concurrency 4]
Writes tests/bench/results/emulator.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from importlib import resources
from pathlib import Path

import aiohttp

from tests.emulator_process import emulator_process

TOKEN = "ghp_" + "e" * 36
RESULTS = Path(__file__).parent / "results"


async def hammer(url: str, seconds: float, concurrency: int) -> tuple[int, list[float]]:
    query = resources.files("ghsync.emulator").joinpath("samples/pr_page.graphql").read_text()
    payload = {"query": query, "variables": {"owner": "acme", "name": "repo-1", "first": 50}}
    headers = {"Authorization": f"bearer {TOKEN}"}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.post(url, json=payload, headers=headers) as answer:
                body = await answer.json()
                assert answer.status == 200 and "errors" not in body, body
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    serve = (
        "--seed",
        "1",
        "--repos",
        "1",
        "--prs",
        "200",
        "--tokens",
        TOKEN,
        "--points-per-hour",
        str(10**9),
        "--points-per-minute",
        str(10**9),
    )
    with emulator_process(*serve) as emulator:
        url = emulator.url
        asyncio.run(hammer(f"{url}/graphql", 1.0, 1))  # warm-up: schema, caches
        count, latencies = asyncio.run(hammer(f"{url}/graphql", args.seconds, args.concurrency))
    latencies.sort()
    result = {
        "figure": "emulator requests/s, 50-PR page query (7 nested connections)",
        "requests": count,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "requests_per_second": round(count / args.seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "command": "python -m tests.bench.bench_emulator",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "emulator.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
