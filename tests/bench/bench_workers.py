"""Issue 18's scaling: PRs/s of a `fan-out` run with 1, 2 and 4 Prefect workers, on the same
work and the same tokens, and what fanning out costs per repository next to one in-process
`ghsync sync` of the same repositories.

Each measurement has a fresh Prefect server (a new database on one throwaway PostgreSQL), the
deployments of prefect.yaml, its workers (tests/e2e/fan_out_stack.py: each its own folder and
PREFECT_HOME, `--limit` runs at once, started before the parent run and not counted) and a
fresh DuckLake on the same PostgreSQL; every run is full, so each does the same work. The
emulator (in this process: it owns the per-account concurrency limit) answers slowly enough
that the tokens, not the CPU, should be the limit; it reports the most requests it served at
once. CPU shares come from /proc.

Run: .venv/bin/python -m tests.bench.bench_workers [--workers 1 2 4] [--repos 12] [--prs 100]
Writes tests/bench/results/workers.json and prints a table. About 7 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, running_emulator
from ghsync.lake import Lake
from tests.bench.processes import run_sync, sync_command, sync_env
from tests.e2e.fan_out_stack import (
    children,
    descendants,
    finished,
    start_run,
    start_workers,
)
from tests.e2e.prefect_stack import ORG, TOKENS, Stack, deploy, free_port, start_server
from tests.postgres import Postgres, postgres_server

RESULTS = Path(__file__).parent / "results"
PER_TOKEN = 3
"""Requests in flight per token: the runs' limit, and the emulator's per account."""
RUNS_PER_WORKER = 2
LATENCY_MS, PER_NODE_MS = 400.0, 1.0
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Work:
    """The same work for every measurement."""

    repos: list[str]
    prs: int

    def parameters(self) -> dict[str, Any]:
        """The `fan-out` run's: every repository in full, two per child run."""
        return {
            "repos": self.repos,
            "orgs": [],
            "days_back": None,
            "full": True,
            "concurrency_per_token": PER_TOKEN,
            "fan_out_prs": 2 * self.prs,
        }


@contextmanager
def emulator(repos: int, prs: int) -> Iterator[Emulator]:
    """GitHub-like latency, budgets out of the way, an account's concurrency as the runs'."""
    faults = FaultConfig(latency_ms=LATENCY_MS, latency_per_node_ms=PER_NODE_MS)
    config = EmulatorConfig(
        repos=repos,
        prs=prs,
        tokens=TOKENS,
        points_per_hour=10**9,
        points_per_minute_per_account=10**9,
        max_concurrent_per_account=PER_TOKEN,
        faults=faults,
    )
    with running_emulator(config) as running:
        yield running


def new_lake(postgres: Postgres, folder: Path, name: str) -> Lake:
    """An empty DuckLake: its catalog a new database, its data under `folder`."""
    postgres.create_database(name)
    return Lake(f"postgres:{postgres.conninfo(name)}", f"{folder / name}/")


@contextmanager
def prefect_stack(
    postgres: Postgres, home: Path, name: str, emulator_url: str, lake: Lake
) -> Iterator[Stack]:
    """A Prefect server on a new database, the pool and the deployments; stopped at the end."""
    home.mkdir()
    stack = Stack(home, lake)
    stack.emulator_url = emulator_url
    try:
        postgres.create_database(name)
        start_server(stack, free_port(), postgres.sqlalchemy_url(name))
        deploy(stack, orgs=[ORG])
        yield stack
    finally:
        stack.stop()


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and every process below it, their reaped children's included."""
    total = 0
    for one in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def postgres_pid(port: int) -> int:
    """The PostgreSQL server's main process (its backends are below it), by its port."""
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if words[0].endswith(b"/postgres") and str(port).encode() in words:
            return int(entry.name)
    raise RuntimeError(f"no PostgreSQL server on port {port}")


def load_average() -> float:
    """The machine's 1-minute load average: other work on it shows here."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def own_cpu() -> float:
    """CPU seconds of this process: the emulator's, mostly (the bench only polls)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def seconds_between(start: str | None, end: str | None) -> float:
    """Seconds between two of Prefect's timestamps (ISO 8601)."""
    assert start and end, (start, end)
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def prs_in(lake: Lake) -> int:
    """The pull requests the warehouse holds."""
    with duckdb.connect() as connection:
        lake.attach(connection, read_only=True)
        row = connection.execute("SELECT count(*) FROM pull_requests").fetchone()
    return int(row[0]) if row else 0


@dataclass
class Watch:
    """What the machine held while a run ran: processes below the workers, their memory."""

    peak_processes: int = 0
    peak_rss_mb: float = 0.0

    def sample(self, roots: list[int]) -> None:
        pids = [pid for root in roots for pid in descendants(root)]
        rss = 0
        for pid in pids:
            try:
                rss += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            except OSError:
                continue
        self.peak_processes = max(self.peak_processes, len(pids))
        self.peak_rss_mb = max(self.peak_rss_mb, rss * os.sysconf("SC_PAGE_SIZE") / 2**20)


def waited(
    stack: Stack, run_id: str, roots: list[int], timeout: float
) -> tuple[dict[str, Any], Watch]:
    """The run once final, with what its workers' processes held meanwhile."""
    watch = Watch()
    return finished(stack, run_id, timeout, lambda: watch.sample(roots)), watch


def settled(roots: list[int], timeout: float = 30.0) -> None:
    """Wait until the workers have no flow-run process left (their CPU then counted)."""
    deadline = time.monotonic() + timeout
    while any(descendants(root) for root in roots) and time.monotonic() < deadline:
        time.sleep(0.2)


def fan_out(
    postgres: Postgres, home: Path, running: Emulator, work: Work, workers: int
) -> dict[str, Any]:
    """One `fan-out` run over `workers` workers: wall time, PRs/s, start latencies, CPU."""
    lake = new_lake(postgres, home, f"lake_w{workers}")
    with prefect_stack(
        postgres, home / f"w{workers}", f"prefect_w{workers}", running.url, lake
    ) as stack:
        names = start_workers(stack, workers, RUNS_PER_WORKER)
        roots = [stack.processes[name].pid for name in names]
        server = stack.processes["server"].pid
        database = postgres_pid(postgres.port)
        running.reset_stats()
        load = load_average()
        before = (machine_ticks(), tree_cpu(server), sum(map(tree_cpu, roots)), own_cpu())
        database_cpu = tree_cpu(database)
        parent, watch = waited(stack, start_run(stack, "fan-out", work.parameters()), roots, 600)
        settled(roots)
        (busy, ticks), server_cpu, workers_cpu, emulator_cpu = before
        after_busy, after_ticks = machine_ticks()
        cpu = {
            "workers_and_flow_runs": sum(map(tree_cpu, roots)) - workers_cpu,
            "prefect_server": tree_cpu(server) - server_cpu,
            "emulator": own_cpu() - emulator_cpu,
            "postgresql": tree_cpu(database) - database_cpu,
        }
        runs = children(stack)
        wall = seconds_between(parent["start_time"], parent["end_time"])
        prs = prs_in(lake)
        latencies = [seconds_between(r["expected_start_time"], r["start_time"]) for r in runs]
        return {
            "workers": workers,
            "state": parent["state_type"],
            "wall_seconds": round(wall, 1),
            "prs": prs,
            "prs_per_second": round(prs / wall, 2),
            "child_runs": len(runs),
            "child_states": sorted({r["state_type"] for r in runs}),
            "child_start_latency_seconds": sorted(round(s, 1) for s in latencies),
            "child_run_seconds": sorted(round(r["total_run_time"], 1) for r in runs),
            "emulator": running.stats()["counters"],
            "cpu_seconds": {name: round(seconds, 1) for name, seconds in cpu.items()},
            "own_cpu_share": round(sum(cpu.values()) / (after_ticks - ticks) * TICK, 2),
            "machine_busy_share": round((after_busy - busy) / (after_ticks - ticks), 2),
            "load_average_before": load,
            "peak_processes_below_workers": watch.peak_processes,
            "peak_rss_mb_below_workers": round(watch.peak_rss_mb),
        }


def plain_sync(postgres: Postgres, home: Path, running: Emulator, work: Work) -> dict[str, Any]:
    """The same repositories by one in-process `ghsync sync`, on a server of its own."""
    lake = new_lake(postgres, home, "lake_plain")
    with prefect_stack(postgres, home / "plain", "prefect_plain", running.url, lake) as stack:
        running.reset_stats()
        env = sync_env(running.url, list(TOKENS), stack.api_url, home / "plain" / "sync-home")
        options = ("--full", "--concurrency-per-token", str(PER_TOKEN))
        load, busy, ticks = load_average(), *machine_ticks()
        done = run_sync(sync_command(work.repos, lake, *options), env)
        after_busy, after_ticks = machine_ticks()
        assert done.returncode == 0, done.output[-2000:]
        [run] = stack.api("/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
        wall = seconds_between(run["start_time"], run["end_time"])
        prs = prs_in(lake)
        return {
            "process_seconds": round(done.seconds, 1),
            "wall_seconds": round(wall, 1),
            "prs": prs,
            "prs_per_second": round(prs / wall, 2),
            "peak_rss_mb": round(done.peak_rss_mb),
            "emulator": running.stats()["counters"],
            "machine_busy_share": round((after_busy - busy) / (after_ticks - ticks), 2),
            "load_average_before": load,
        }


def table(plain: dict[str, Any], runs: list[dict[str, Any]], repos: int) -> list[str]:
    """The printed summary: one row per measurement."""
    one = next((r for r in runs if r["workers"] == 1), runs[0])
    lines = [
        "workers  wall s  PRs/s  ratio  child start s (median/max)  s/repo over plain  "
        "peak in flight  CPU ours/all",
        f"{'plain':>7}  {plain['wall_seconds']:6.1f}  {plain['prs_per_second']:5.1f}  "
        f"{'':5}  {'':26}  {'':17}  {plain['emulator'].get('peak_in_flight', 0):14}  "
        f"{'-':>7}/{plain['machine_busy_share']:.0%}",
    ]
    for r in runs:
        latency = r["child_start_latency_seconds"]
        overhead = (r["wall_seconds"] - plain["wall_seconds"]) / repos
        lines.append(
            f"{r['workers']:>7}  {r['wall_seconds']:6.1f}  {r['prs_per_second']:5.1f}  "
            f"{r['prs_per_second'] / one['prs_per_second']:5.2f}  "
            f"{statistics.median(latency):12.1f} / {max(latency):11.1f}  {overhead:17.1f}  "
            f"{r['emulator'].get('peak_in_flight', 0):14}  "
            f"{r['own_cpu_share']:7.0%}/{r['machine_busy_share']:.0%}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repos", type=int, default=12)
    parser.add_argument("--prs", type=int, default=100)
    args = parser.parse_args()
    work = Work([f"{ORG}/repo-{n}" for n in range(1, args.repos + 1)], args.prs)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="ghsync-bench-workers-") as folder,
        postgres_server() as postgres,
        emulator(args.repos, args.prs) as running,
    ):
        home = Path(folder)
        plain = plain_sync(postgres, home, running, work)
        print(f"[bench] plain sync: {plain['wall_seconds']} s", flush=True)
        runs = []
        for count in args.workers:
            runs.append(fan_out(postgres, home, running, work, count))
            print(f"[bench] {count} workers: {runs[-1]['wall_seconds']} s", flush=True)
    lines = table(plain, runs, len(work.repos))
    result = {
        "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}",
        "seconds": round(time.monotonic() - started, 1),
        "work": {
            "repos": len(work.repos),
            "prs_per_repo": work.prs,
            "tokens": len(TOKENS),
            "concurrency_per_token": PER_TOKEN,
            "runs_per_worker": RUNS_PER_WORKER,
            "latency_ms": LATENCY_MS,
            "latency_per_node_ms": PER_NODE_MS,
            "fan_out_prs": 2 * work.prs,
        },
        "plain_sync": plain,
        "fan_out": runs,
        "table": lines,
        "command": "python -m tests.bench.bench_workers",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "workers.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
