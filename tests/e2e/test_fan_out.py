"""Issue 18, many Prefect workers, end to end: a Prefect server on PostgreSQL, a process work
pool, the deployments of prefect.yaml, the zombie-run automation (flows/zombies.py), and three
workers as if on three machines (each its own PREFECT_HOME and working directory), all writing
one DuckLake (GHSYNC_DB: its catalog on the same PostgreSQL, its data in a shared folder),
against the emulator (an org of 8 repositories, 300 ms per answer, at most as many requests in
flight per account as the per-token limit allows).

A `fan-out` run checks the repositories and syncs them in `sync-repo` runs on the workers. One
worker is killed with SIGKILL, with its flow-run processes (a machine that dies), once a child
run of its own has loaded a page: the automation marks that run Crashed when its heartbeats
stop, the parent runs its repositories again on another worker, and it ends Completed with the
warehouse equal to the emulator's truth. No token went over its concurrency (no secondary-limit
answer), and a second, unchanged run costs one metadata query and starts no child run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig, running_emulator
from ghsync.lake import Lake
from tests.e2e.fan_out_stack import (
    children,
    descendants,
    finished,
    flow_run,
    start_run,
    start_workers,
    until,
)
from tests.e2e.prefect_stack import (
    BIN,
    ORG,
    TOKENS,
    Stack,
    deploy,
    free_port,
    start_server,
)
from tests.integration.truth import ci_running, differences
from tests.postgres import Postgres

REPOS = [f"{ORG}/repo-{n}" for n in range(1, 9)]
SYNCED = [*REPOS, f"{ORG}/empty"]
PRS, PAGE_SIZE = 60, 10
PAGES = PRS // PAGE_SIZE  # per repository
PER_TOKEN = 3
"""Requests in flight per token: the runs' limit, and the emulator's, per account."""
PARAMETERS = {
    "repos": SYNCED,
    "orgs": [],
    "days_back": None,
    "page_size": PAGE_SIZE,
    "concurrency_per_token": PER_TOKEN,
    "fan_out_prs": 2 * PRS,  # two repositories per child run: 4 child runs
    # The emulator's CI is all finished before the first run (below), so nothing is due
    # on the second; without this the CI of open PRs updated in the last 3 days is re-polled
    # (a child run per repository with such PRs, a request each).
    "ci_recheck_days": 0,
}
ZOMBIE_SECONDS = 60  # two heartbeats: the test's wait; the README's default is three (90 s)
PAGE = re.compile(r"(\S+) page \d+: \d+ PRs loaded")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    faults = FaultConfig(latency_ms=300)
    config = EmulatorConfig(
        repos=len(REPOS),
        prs=PRS,
        tokens=TOKENS,
        max_concurrent_per_account=PER_TOKEN,
        faults=faults,
    )
    with running_emulator(config) as running:
        for repo in REPOS:  # every CI finished: an unchanged re-run has nothing due
            truth = running.truth(repo)
            assert truth is not None
            for pr in filter(ci_running, truth["pullRequests"]):
                running.activity("finish_checks", repo, pr["number"])
        yield running


def worker_of(stack: Stack, workers: list[str], run_id: str) -> str | None:
    """The worker that runs the run, from its log: its flow-run process prints the run's URL
    when the run begins. (Several workers may log that they submit a run: the server lets one
    have it, the others log that it was aborted.)"""
    line = f"/runs/flow-run/{run_id}"
    return next((name for name in workers if line in stack.log(name).read_text()), None)


def pages_loaded(stack: Stack, run_id: str) -> Counter[str]:
    """The pages a flow run logged as loaded, per repository ("acme/repo-1 page 2: 10 PRs
    loaded"); the last ones of a killed run may have died before they were sent."""
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200}
    found = (PAGE.search(log["message"]) for log in stack.api("/logs/filter", body))
    return Counter(match.group(1) for match in found if match)


def kill_machine(stack: Stack, worker: str) -> set[int]:
    """SIGKILL the worker's process group and those of its flow-run processes: nothing of that
    machine tells the server anything any more. Returns the groups."""
    process = stack.processes[worker]
    groups = {process.pid} | {os.getpgid(pid) for pid in descendants(process.pid)}
    for group in groups:
        os.killpg(group, signal.SIGKILL)
    process.wait()
    return groups


@pytest.mark.e2e
def test_workers_share_a_fan_out_run_and_a_dead_workers_repositories_run_again(
    tmp_path: Path, postgres: Postgres, lake: Lake, emulator: Emulator
) -> None:
    warehouse = lake  # GHSYNC_DB of every worker
    stack = Stack(tmp_path, warehouse)
    stack.emulator_url = emulator.url
    try:
        postgres.create_database("prefect_fan_out")
        start_server(stack, free_port(), postgres.sqlalchemy_url("prefect_fan_out"))
        deploy(stack, orgs=[ORG])
        zombies = [str(BIN / "python"), "-m", "flows.zombies", "--within", str(ZOMBIE_SECONDS)]
        stack.run("automation", zombies)
        workers = start_workers(stack, 3)

        parent = start_run(stack, "fan-out", PARAMETERS)
        parent_worker = until("parent's worker", lambda: worker_of(stack, workers, parent), 60)

        def a_victim() -> tuple[str, dict[str, Any]] | None:
            for child in children(stack):
                worker = worker_of(stack, workers, child["id"])
                if child["state_type"] != "RUNNING" or worker in (None, parent_worker):
                    continue
                if pages_loaded(stack, child["id"]):
                    return worker, child
            return None

        victim_worker, victim = until("child run with a page loaded", a_victim, 90)
        killed_groups = kill_machine(stack, victim_worker)
        started = time.monotonic()

        done = finished(stack, parent, 240)
        stack.timings["parent after the kill"] = time.monotonic() - started
        assert done["state_type"] == "COMPLETED", done["state"]
        killed = flow_run(stack, victim["id"])
        assert killed["state_type"] == "CRASHED"  # by the automation: no heartbeat
        runs = children(stack)
        again = [r for r in runs if r["parameters"]["repos"] == victim["parameters"]["repos"]]
        assert again[0]["id"] == victim["id"] and len(again) == 2
        assert again[1]["state_type"] == "COMPLETED"
        # The run again resumed each repository's session where the dead one stopped.
        before, after = pages_loaded(stack, victim["id"]), pages_loaded(stack, again[1]["id"])
        assert before and all(before[r] + after[r] <= PAGES for r in before), (before, after)
        assert worker_of(stack, workers, again[1]["id"]) not in (None, victim_worker)
        assert not any(token in json.dumps(r["parameters"]) for token in TOKENS for r in runs)
        ran_children = {worker_of(stack, workers, r["id"]) for r in runs}
        assert len(ran_children - {None}) > 1
        for repo in SYNCED:
            truth = emulator.truth(repo)
            assert truth is not None
            assert differences(warehouse, truth) == {}, repo
        counters = emulator.stats()["counters"]
        assert counters.get("secondary", 0) == 0, counters

        emulator.reset_stats()
        unchanged = finished(stack, start_run(stack, "fan-out", PARAMETERS), 120)
        assert unchanged["state_type"] == "COMPLETED"
        assert len(children(stack)) == len(runs)  # no child run this time
        ops = {k: v for k, v in emulator.stats()["counters"].items() if k.startswith("op:")}
        # One metadata query; with two tokens, one Viewer each first (whose account it is).
        assert ops == {"op:RepoMetadata": 1, "op:Viewer": len(TOKENS)}
    finally:
        stack.stop()
        print("\n".join(f"{step:>24}: {s:5.1f} s" for step, s in stack.timings.items()))
    for group in killed_groups:  # the dead machine left nothing running
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
