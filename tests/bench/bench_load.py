"""Load rate of the warehouse: rows/s of the sync's load path (polars -> Arrow -> DuckDB through
the run's `WarehouseWriter`) against plain row-by-row `executemany` doing the same upserts.

Both load synthetic PRs with children (reviews, commits, files, check runs, statuses), in pages
of 50 PRs (a sync's default), into a fresh file, then load every page a second time (a re-sync:
every PR is replaced). The load path is fed by `--streams` loaders that each wait for their
page to be loaded before they hand over the next, as that many repositories syncing at once
do when loading is what they wait for; the writer loads the pages queued together in one
transaction (`Warehouse.upsert_pages`). `executemany` commits as often (one transaction per
that many pages). Row-by-row runs at a few thousand rows/s, so it loads the first
`--baseline-prs` PRs only (all 50,000 would take a quarter of an hour); `Warehouse.upsert_page`
then loads that subset one page per transaction (a single repository's sync, nothing else
queued), and its tables must equal executemany's. The same subset goes through the writer
into a file and into a DuckLake on a throwaway PostgreSQL (when PostgreSQL is installed):
the load rate of each store.

Run: .venv/bin/python -m tests.bench.bench_load [--prs 50000] [--baseline-prs 3000] [--streams 16]
Writes tests/bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from ghsync.frames import CHILD_SCHEMAS, PULL_REQUESTS, PageFrames
from ghsync.lake import Lake, Location
from ghsync.warehouse import Warehouse
from ghsync.writer import WarehouseWriter, WriterStats
from tests.postgres import postgres_bin, postgres_server

T = TypeVar("T")

RESULTS = Path(__file__).parent / "results"
REPO = "acme/bench"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
# children per PR: 2 reviews, 4 commits, 6 files, 4 check runs, 1 status
PER_PR = {"pr_reviews": 2, "pr_commits": 4, "pr_files": 6, "check_runs": 4, "commit_statuses": 1}


def make_page(first: int, size: int) -> PageFrames:
    """PRs first..first+size-1 with their children (deterministic values)."""
    numbers = range(first, first + size)
    prs = [
        {
            "repo": REPO,
            "number": n,
            "pr_id": f"PR_{n}",
            "database_id": n,
            "title": f"Change number {n}",
            "body": "Fixes a thing.\n\nCo-authored-by: Claude <noreply@anthropic.com>" * (n % 2),
            "state": "MERGED" if n % 3 else "OPEN",
            "is_draft": False,
            "author_login": f"dev{n % 50}",
            "author_type": "User",
            "created_at": T0 + timedelta(minutes=n),
            "updated_at": T0 + timedelta(minutes=n, hours=5),
            "closed_at": None,
            "merged_at": T0 + timedelta(minutes=n, hours=5) if n % 3 else None,
            "additions": n % 400,
            "deletions": n % 70,
            "changed_files": 6,
            "base_ref": "main",
            "head_ref": f"topic-{n}",
            "head_sha": f"{n:040x}",
            "milestone": f"v{n % 5}",
            "labels": ["bug", "backend"][: n % 3],
            "assignees": [f"dev{(n + 1) % 50}"],
            "linked_issues": [n // 2],
            "requested_reviewers": [f"dev{(n + 2) % 50}", "acme/core"],
        }
        for n in numbers
    ]
    children: dict[str, list[dict[str, object]]] = {table: [] for table in CHILD_SCHEMAS}
    for n in numbers:
        key = {"repo": REPO, "number": n}
        at = T0 + timedelta(minutes=n)
        for i in range(PER_PR["pr_reviews"]):
            review = {"review_id": n * 10 + i, "state": "APPROVED", "author_login": f"dev{i}"}
            children["pr_reviews"].append(key | review | {"submitted_at": at})
        for i in range(PER_PR["pr_commits"]):
            commit = {"sha": f"{n:036x}{i:04x}", "author_login": "dev1", "author_email": "d@x"}
            times = {"authored_at": at, "committed_at": at, "message": f"step {i}\n\nbody"}
            children["pr_commits"].append(key | commit | {"author_name": "Dev"} | times)
        for i in range(PER_PR["pr_files"]):
            changed = {"path": f"src/module_{i}/file_{n % 97}.py", "additions": i, "deletions": 1}
            children["pr_files"].append(key | changed | {"change_type": "MODIFIED"})
        for i in range(PER_PR["check_runs"]):
            run = {"head_sha": f"{n:040x}", "check_run_id": n * 10 + i, "app": "GitHub Actions"}
            result = {"app_slug": "github-actions", "name": f"job-{i}", "status": "COMPLETED"}
            span = {"started_at": at, "completed_at": at + timedelta(seconds=90)}
            children["check_runs"].append(key | run | result | {"conclusion": "SUCCESS"} | span)
        status = {"head_sha": f"{n:040x}", "context": "ci/legacy", "state": "SUCCESS"}
        children["commit_statuses"].append(key | status | {"created_at": at})
    frames = {t: pl.DataFrame(rows, schema=CHILD_SCHEMAS[t]) for t, rows in children.items()}  # type: ignore[index]
    return PageFrames(pl.DataFrame(prs, schema=PULL_REQUESTS), frames)


def load_per_page(path: Location, pages: list[PageFrames], _: int) -> None:
    """One page per transaction."""
    with Warehouse.open(path) as warehouse:
        for page in pages:
            warehouse.upsert_page(page)


def load_through_writer(path: Location, pages: list[PageFrames], streams: int) -> WriterStats:
    """The sync's path: `streams` loaders, each handing the writer its next page once the
    last one is loaded."""

    async def run() -> WriterStats:
        async with WarehouseWriter.of(path) as writer:

            async def stream(first: int) -> None:
                for page in pages[first::streams]:
                    await writer.load((page, None))

            await asyncio.gather(*(stream(first) for first in range(streams)))
        return writer.stats

    return asyncio.run(run())


def load_executemany(path: Path, pages: list[PageFrames], per_transaction: int) -> None:
    """The same upsert, row by row: INSERT OR REPLACE each PR, DELETE each PR's children,
    INSERT each child row, `per_transaction` pages per transaction."""
    Warehouse.open(path).close()  # the same schema
    connection = duckdb.connect(str(path))
    for first in range(0, len(pages), per_transaction):
        connection.begin()
        for page in pages[first : first + per_transaction]:
            connection.executemany(insert("pull_requests", page.pull_requests, "OR REPLACE"),
                                   page.pull_requests.rows())  # fmt: skip
            keys = page.pull_requests.select("repo", "number").rows()
            for table, frame in page.children.items():
                connection.executemany(f"DELETE FROM {table} WHERE repo = ? AND number = ?", keys)
                connection.executemany(insert(table, frame), frame.rows())
        connection.commit()
    connection.close()


def insert(table: str, frame: pl.DataFrame, verb: str = "") -> str:
    columns = ", ".join(frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    return f"INSERT {verb} INTO {table} ({columns}) VALUES ({marks})"


def timed(load: Callable[[Location, list[PageFrames], int], T], path: Location,
          pages: list[PageFrames], option: int) -> tuple[float, list[T]]:  # fmt: skip
    """Seconds to load `pages` twice (a first sync, then a re-sync replacing every row)."""
    started = time.perf_counter()
    outcomes = [load(path, pages, option), load(path, pages, option)]
    return time.perf_counter() - started, outcomes


def measured(pages: list[PageFrames], seconds: float) -> dict[str, Any]:
    rows = 2 * sum(page.rows() for page in pages)
    prs = sum(page.pull_requests.height for page in pages)
    print(f"{prs:,} PRs, {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s")
    return {
        "prs": prs,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
    }


def snapshot(path: Path) -> Iterator[tuple[str, int, int]]:
    connection = duckdb.connect(str(path), read_only=True)
    for table in ("pull_requests", *PER_PR):
        count, digest = connection.execute(
            f"SELECT count(*), sum(hash(t)) FROM {table} AS t"
        ).fetchone()  # type: ignore[misc]
        yield table, count, digest
    connection.close()


def lake_vs_file(folder: str, pages: list[PageFrames], streams: int) -> dict[str, Any]:
    """The writer's load rate into a file and into a DuckLake (PostgreSQL catalog, data under
    `folder`), the same pages; {} without PostgreSQL."""
    if postgres_bin() is None:
        return {}
    with postgres_server() as server:
        server.create_database("lake")
        lake = Lake(f"postgres:{server.conninfo('lake')}", f"{folder}/lake/")
        on_file = measured(pages, timed(load_through_writer, Path(folder, "f.duckdb"), pages,
                                        streams)[0])  # fmt: skip
        on_lake = measured(pages, timed(load_through_writer, lake, pages, streams)[0])
    return {"file": on_file, "ducklake": on_lake,
            "ratio": round(on_lake["rows_per_s"] / on_file["rows_per_s"], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=50_000)
    parser.add_argument("--baseline-prs", type=int, default=3_000)
    parser.add_argument("--page-size", type=int, default=50)  # a sync's default page size
    parser.add_argument("--streams", type=int, default=16)
    args = parser.parse_args()
    pages = [make_page(first, min(args.page_size, args.prs - first + 1))
             for first in range(1, args.prs + 1, args.page_size)]  # fmt: skip
    subset = pages[: -(-args.baseline_prs // args.page_size)]
    results: dict[str, Any] = {"page_size": args.page_size, "streams": args.streams}
    with tempfile.TemporaryDirectory() as folder:
        seconds, outcomes = timed(
            load_through_writer, Path(folder, "a.duckdb"), pages, args.streams
        )
        results["arrow_upsert"] = measured(pages, seconds)
        stats = outcomes[-1]  # of the re-sync
        per_transaction = round(stats.pages / stats.transactions)
        results["arrow_upsert"]["pages_per_transaction"] = round(
            stats.pages / stats.transactions, 1
        )
        many, per_page = Path(folder, "many.duckdb"), Path(folder, "per-page.duckdb")
        results["executemany"] = measured(
            subset, timed(load_executemany, many, subset, per_transaction)[0]
        )
        results["executemany"]["pages_per_transaction"] = per_transaction
        results["arrow_upsert_per_page"] = measured(
            subset, timed(load_per_page, per_page, subset, 1)[0]
        )
        assert list(snapshot(many)) == list(snapshot(per_page)), "the loads left different tables"
        results["stores"] = lake_vs_file(folder, subset, args.streams)
    arrow, baseline = results["arrow_upsert"], results["executemany"]
    results["speedup"] = round(arrow["rows_per_s"] / baseline["rows_per_s"], 1)
    results["speedup_per_page"] = round(
        results["arrow_upsert_per_page"]["rows_per_s"] / baseline["rows_per_s"], 1
    )
    results["versions"] = {"duckdb": duckdb.__version__, "polars": pl.__version__}
    results["cpus"] = os.cpu_count()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"speedup x{results['speedup']} (one page per transaction: "
          f"x{results['speedup_per_page']}); wrote {RESULTS / 'load.json'}")  # fmt: skip


if __name__ == "__main__":
    main()
