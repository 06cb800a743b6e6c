"""Points, requests and PRs/s of a full fetch (PR pages, nested completion, check runs) of the
emulator's default dataset (heavy PRs on), through ghsync.github.fetch as the sync calls it:
per repository the next page is fetched while the current one is completed, a page's head
commits are queued and their CI asked in full requests across pages (the rest after the last
page; `--ci-per-page`: each page's CI on its own, the plan before issue 17), and `--slots`
requests are in flight per token (default: the sync's, `--concurrency-per-token`). No
Prefect, no DuckDB: a quick figure for query plans; `make bench` reports the candidate plans.

Run: .venv/bin/python -m tests.bench.bench_points [--repos 1] [--prs 1000] [--page-size 21]
     [--ci-per-page] [--latency-ms 0] [--per-node-ms 0] [--slots 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ghsync.config import DEFAULT_OPTIONS
from ghsync.emulator import EmulatorConfig, FaultConfig, started_emulator
from ghsync.github import fetch
from ghsync.github.client import GitHubClient
from ghsync.github.tokens import TokenPool
from ghsync.nodes import head_commit_id

TOKEN = "ghp_" + "p" * 36


@dataclass(frozen=True)
class Plan:
    """A query plan to measure: the page size, and whether CI goes across pages."""

    page_size: int = DEFAULT_OPTIONS.page_size
    ci_across_pages: bool = True

    def __str__(self) -> str:
        ci = "CI across pages" if self.ci_across_pages else "CI per page"
        return f"pages of {self.page_size}, {ci}"


@dataclass(frozen=True)
class Workload:
    repos: int = 1
    prs: int = 1000
    latency_ms: float = 0.0
    per_node_ms: float = 0.0
    slots: int = DEFAULT_OPTIONS.concurrency_per_token


async def fetch_repo(client: GitHubClient, repo: str, plan: Plan) -> int:
    """Every PR of `repo`, complete, with its head commit's check runs; returns the PRs."""
    prs = 0
    checks = fetch.CheckRunBatches()
    raised: tuple[str, ...] = ()
    asked = plan.page_size
    pending = asyncio.ensure_future(fetch.fetch_pr_page(client, repo, None, asked))
    while True:
        page = await pending
        if page.has_next:
            raised = fetch.next_sizes(raised, page, asked)
            asked = page.page_size
            after = fetch.fetch_pr_page(client, repo, page.end_cursor, asked, raised)
            pending = asyncio.ensure_future(after)
        await fetch.complete_nested(client, page.nodes, checks if plan.ci_across_pages else None)
        checks.add(head for head in map(head_commit_id, page.nodes) if head)
        last = not page.has_next
        await checks.fetch(client, everything=last or not plan.ci_across_pages)
        prs += len(page.nodes)
        if last:
            return prs


async def measure(plan: Plan, work: Workload) -> dict[str, object]:
    """The fetch of `work` with `plan`: PRs, points, requests (per operation), seconds."""
    config = EmulatorConfig(
        seed=8,
        repos=work.repos,
        prs=work.prs,
        tokens=(TOKEN,),
        points_per_hour=10**9,
        points_per_minute_per_account=10**9,
    )
    gate = asyncio.Semaphore(work.slots)

    @asynccontextmanager
    async def slot(_: str) -> AsyncIterator[None]:
        async with gate:
            yield

    async with started_emulator(config) as emu:
        emu.set_faults(
            FaultConfig(latency_ms=work.latency_ms, latency_per_node_ms=work.per_node_ms)
        )
        async with GitHubClient(TokenPool((TOKEN,)), emu.graphql_url, slot=slot) as client:
            started = time.monotonic()
            repos = [f"acme/repo-{i}" for i in range(1, work.repos + 1)]
            counts = await asyncio.gather(*(fetch_repo(client, r, plan) for r in repos))
            seconds = time.monotonic() - started
        stats = emu.stats()
    counters = stats["counters"]
    return {
        "plan": str(plan),
        "prs": sum(counts),
        "points": stats["points_total"],
        "requests": counters["graphql_requests"],
        "operations": {
            k.removeprefix("op:"): v for k, v in counters.items() if k.startswith("op:")
        },
        "seconds": round(seconds, 1),
    }


def summary(figures: dict[str, object]) -> str:
    prs, points, requests = (int(figures[k]) for k in ("prs", "points", "requests"))  # type: ignore[call-overload]
    seconds = float(figures["seconds"])  # type: ignore[arg-type]
    return (
        f"{prs} PRs, {figures['plan']}: {points} points ({points * 1000 / prs:.1f} per 1,000 "
        f"PRs), {requests} requests ({requests * 1000 / prs:.1f} per 1,000 PRs) "
        f"{figures['operations']}; {seconds:.1f} s, {prs / seconds:.1f} PRs/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1)
    parser.add_argument("--prs", type=int, default=1000, help="PRs per repository")
    parser.add_argument("--page-size", type=int, default=DEFAULT_OPTIONS.page_size)
    parser.add_argument("--ci-per-page", action="store_true")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--per-node-ms", type=float, default=0.0)
    parser.add_argument(
        "--slots",
        type=int,
        default=DEFAULT_OPTIONS.concurrency_per_token,
        help="requests in flight per token",
    )
    args = parser.parse_args()
    plan = Plan(args.page_size, not args.ci_per_page)
    work = Workload(args.repos, args.prs, args.latency_ms, args.per_node_ms, args.slots)
    print(summary(asyncio.run(measure(plan, work))))


if __name__ == "__main__":
    main()
