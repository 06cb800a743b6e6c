"""Points, requests and PRs/s of a full fetch (PR pages, nested completion, check runs) of the
emulator's default dataset (heavy PRs on), through ghsync.github.fetch as the sync calls it:
per repository the next page is fetched while the current one is completed, and `--slots`
requests are in flight per token (default: the sync's, `--concurrency-per-token`). No Prefect, no
DuckDB: a quick figure for query plans, not `make bench`.

Run: .venv/bin/python -m tests.bench.bench_points [--repos 1] [--prs 1000] [--page-size 50]
     [--latency-ms 0] [--per-node-ms 0] [--slots 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ghsync.config import DEFAULT_OPTIONS
from ghsync.emulator import EmulatorConfig, FaultConfig, started_emulator
from ghsync.github import fetch
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool
from ghsync.nodes import head_commit_id

TOKEN = "ghp_" + "p" * 36


async def fetch_repo(client: GitHubClient, repo: str, page_size: int) -> int:
    """Every PR of `repo`, complete, with its head commit's check runs (asked as the sync
    does: in full requests across pages, the rest after the last page); returns the PRs."""
    prs = 0
    checks = fetch.CheckRunBatches()
    raised: tuple[str, ...] = ()
    asked = page_size
    pending = asyncio.ensure_future(fetch.fetch_pr_page(client, repo, None, page_size))
    while True:
        page = await pending
        if page.has_next:
            raised = fetch.next_sizes(raised, page, asked)
            asked = page.page_size
            after = fetch.fetch_pr_page(client, repo, page.end_cursor, asked, raised)
            pending = asyncio.ensure_future(after)
        await fetch.complete_nested(client, page.nodes, checks)
        checks.add(head for head in map(head_commit_id, page.nodes) if head)
        await checks.fetch(client, everything=not page.has_next)
        prs += len(page.nodes)
        if not page.has_next:
            return prs


async def measure(args: argparse.Namespace) -> str:
    config = EmulatorConfig(
        seed=8,
        repos=args.repos,
        prs=args.prs,
        tokens=(TOKEN,),
        points_per_hour=10**9,
        points_per_minute_per_account=10**9,
    )
    gate = asyncio.Semaphore(args.slots)

    @asynccontextmanager
    async def slot(_: str) -> AsyncIterator[None]:
        async with gate:
            yield

    async with started_emulator(config) as emu:
        emu.set_faults(
            FaultConfig(latency_ms=args.latency_ms, latency_per_node_ms=args.per_node_ms)
        )
        async with GitHubClient(TokenPool((TOKEN,)), emu.graphql_url, slot=slot) as client:
            started = time.monotonic()
            repos = [f"acme/repo-{i}" for i in range(1, args.repos + 1)]
            counts = await asyncio.gather(*(fetch_repo(client, r, args.page_size) for r in repos))
            seconds = time.monotonic() - started
        stats = emu.stats()
    prs, points = sum(counts), stats["points_total"]
    counters = stats["counters"]
    requests = counters["graphql_requests"]
    per_operation = {k.removeprefix("op:"): v for k, v in counters.items() if k.startswith("op:")}
    return (
        f"{prs} PRs, page size {args.page_size}: {points} points "
        f"({points * 1000 / prs:.1f} per 1,000 PRs), {requests} requests "
        f"({requests * 1000 / prs:.1f} per 1,000 PRs) {per_operation}; "
        f"{seconds:.1f} s, {prs / seconds:.1f} PRs/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1)
    parser.add_argument("--prs", type=int, default=1000, help="PRs per repository")
    parser.add_argument("--page-size", type=int, default=DEFAULT_OPTIONS.page_size)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--per-node-ms", type=float, default=0.0)
    parser.add_argument(
        "--slots",
        type=int,
        default=DEFAULT_OPTIONS.concurrency_per_token,
        help="requests in flight per token",
    )
    print(asyncio.run(measure(parser.parse_args())))


if __name__ == "__main__":
    main()
