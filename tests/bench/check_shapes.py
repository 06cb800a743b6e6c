"""What the check runs of 100 head commits cost in each query shape GitHub offers, measured on
the emulator (its cost is GitHub's formula) with the default dataset: points, and how many of
the commits' check runs (re-runs included) come back.

Run: .venv/bin/python -m tests.bench.check_shapes
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from ghsync.emulator import EmulatorConfig, started_emulator
from ghsync.github import fetch
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool
from ghsync.nodes import head_commit_id, items

TOKEN = "ghp_" + "s" * 36
SHAPES = Path(__file__).parent / "shapes"
COMMITS = 100
VARIANTS: list[tuple[str, dict[str, object]]] = [
    ("SuitesThenRuns", {"suites": 4}),
    ("SuitesThenRuns", {"suites": 10}),
    ("StatusCheckRollup", {}),
    ("Statuses", {}),
]
"""The shapes of `shapes/`, with their variables."""


def _runs(node: dict[str, Any] | None) -> list[int]:
    """The check run ids in one commit's answer of any shape."""
    if not node:
        return []
    if "checkSuites" in node:
        return [r["databaseId"] for s in items(node["checkSuites"]) for r in items(s["checkRuns"])]
    rollup = node.get("statusCheckRollup")
    return [c["databaseId"] for c in items(rollup["contexts"]) if c] if rollup else []


async def measure() -> list[dict[str, Any]]:
    config = EmulatorConfig(seed=8, repos=1, prs=COMMITS, tokens=(TOKEN,))
    async with (
        started_emulator(config) as emu,
        GitHubClient(TokenPool([TOKEN]), emu.graphql_url) as client,
    ):
        page = await fetch.fetch_pr_page(client, "acme/repo-1", None, COMMITS)
        await fetch.complete_nested(client, page.nodes)
        heads = [h for h in map(head_commit_id, page.nodes) if h]
        truth = emu.truth("acme/repo-1")["pullRequests"]  # type: ignore[index]
        expected = sum(len(pr["checkRuns"]) for pr in truth)
        suites = sum(len({r["app"] for r in pr["checkRuns"]}) for pr in truth)
        rows: list[dict[str, Any]] = []
        headers = {"Authorization": f"bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for name, extra in VARIANTS:
                query = (SHAPES / f"{name}.graphql").read_text()
                body = {"query": query, "variables": {"ids": heads, **extra}}
                async with http.post(emu.graphql_url, json=body) as response:
                    data = (await response.json())["data"]
                runs = sum(len(_runs(node)) for node in data["nodes"])
                label = name + "".join(f" ({k} {v})" for k, v in extra.items())
                rows.append(_row(label, data["rateLimit"]["cost"], 1, runs, expected))
        before = emu.stats()
        batches = fetch.CheckRunBatches()
        batches.add(heads)
        done = await batches.fetch(client, everything=True)
        after = emu.stats()
        runs = sum(len(_runs(dict(c))) for c in done.values() if c)
        points = after["points_total"] - before["points_total"]
        requests = after["counters"]["graphql_requests"] - before["counters"]["graphql_requests"]
        rows.append(
            _row("ghsync: CheckRuns, then CheckSuiteRuns", points, requests, runs, expected)
        )
    for row in rows:
        row["suites"] = suites
    return rows


def _row(shape: str, points: int, requests: int, runs: int, expected: int) -> dict[str, Any]:
    return {
        "shape": shape,
        "points": points,
        "requests": requests,
        "runs": runs,
        "expected_runs": expected,
        "complete": runs == expected,
    }


def main() -> None:
    print(json.dumps(asyncio.run(measure()), indent=2))


if __name__ == "__main__":
    main()
