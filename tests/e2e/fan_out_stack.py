"""The many-workers stack of README "Many machines", shared by the end-to-end test
(tests/e2e/test_fan_out.py) and the workers benchmark (tests/bench/bench_workers.py): workers as
on machines of their own, flow runs started and waited for through the Prefect REST API, and
the processes below a worker (its flow-run processes) found in /proc."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.prefect_stack import BIN, POOL, Stack

T = TypeVar("T")

HEARTBEAT_SECONDS = 30  # Prefect's minimum
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def until(what: str, found: Callable[[], T | None], timeout: float) -> T:
    """Poll `found` until it answers something, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (answer := found()) is None:
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.3)
    return answer


def start_workers(stack: Stack, count: int, limit: int = 2) -> list[str]:
    """`count` workers, each as on a machine of its own: its folder, PREFECT_HOME, heartbeats;
    the database and the result storage (page checkpoints) shared. At most `limit` runs each."""
    names = []
    for number in range(1, count + 1):
        name = f"worker-{number}"
        machine = stack.home / name
        machine.mkdir()
        env = {
            **stack.worker_env(),
            "PREFECT_HOME": str(machine / "prefect"),
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS),
            "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(stack.home / "results"),
        }
        command = ["worker", "start", "--pool", POOL, "--name", name, "--limit", str(limit)]
        stack.start(name, [str(BIN / "prefect"), *command], env, cwd=machine)
        names.append(name)
    for name in names:
        stack.wait_for(name, "started!", time.monotonic())
    return names


def start_run(stack: Stack, deployment: str, parameters: dict[str, Any]) -> str:
    """A flow run of the deployment (its name without the flow's), started now; its id."""
    body = {"deployments": {"name": {"any_": [deployment]}}}
    [found] = stack.api("/deployments/filter", body)
    run = stack.api(f"/deployments/{found['id']}/create_flow_run", {"parameters": parameters})
    return str(run["id"])


def flow_run(stack: Stack, run_id: str) -> dict[str, Any]:
    found: dict[str, Any] = stack.api(f"/flow_runs/{run_id}")
    return found


def finished(
    stack: Stack, run_id: str, timeout: float, meanwhile: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """The flow run once in a final state; `meanwhile` is called at every look."""

    def final() -> dict[str, Any] | None:
        meanwhile()
        run = flow_run(stack, run_id)
        return run if run["state_type"] in FINAL else None

    return until(f"end of flow run {run_id}", final, timeout)


def children(stack: Stack) -> list[dict[str, Any]]:
    """Every run of the `sync-repo` deployment, oldest first."""
    body = {"deployments": {"name": {"any_": ["sync-repo"]}}, "sort": "EXPECTED_START_TIME_ASC"}
    runs: list[dict[str, Any]] = stack.api("/flow_runs/filter", body)
    return runs


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc: a flow run's process starts a session of its
    own, out of its worker's process group)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        below = parents.get(todo.pop(), [])
        found += below
        todo += below
    return found
