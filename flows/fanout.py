"""A parent run's fan-out (`sync_repos(fan_out=...)`): the repositories it checked, each changed
one (or a batch of small ones) synced by a flow run of the child deployment, on whichever
worker of the pool takes it, so that workers on many machines share the work.

The parent waits for every child run. A child's return value stays on its worker, so each
repository's outcome is read from the warehouse, where the child recorded it; the parent marks
the repositories `running` before it starts the run, so an outcome still `running` afterwards
is one the run never reached (its worker died, the run was marked Crashed: see flows/zombies.py)
and a failed one failed. Both are run again, up to the plan's attempts, and resume from the
session the warehouse's sync state keeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import arun_deployment
from prefect.exceptions import ObjectNotFound

from flows import tasks
from flows.report import tell_finished
from ghsync import ConfigError, FanOut, RepoMeta, RepoOutcome, RepoStatus, batches, recorded_outcome


async def fan_out_repos(
    plan: FanOut, metas: list[RepoMeta], parameters: dict[str, Any]
) -> list[RepoOutcome]:
    """The outcomes of `metas`' repositories: `unchanged` recorded here for those with nothing
    to do, the others synced in child runs started with `parameters` (every option, the
    Secret blocks' names: never a token)."""
    needed = set(await tasks.needing_runs_task(metas, len(metas)))
    unchanged = [await _unchanged(meta.repo) for meta in metas if meta.repo not in needed]
    groups = batches([meta for meta in metas if meta.repo in needed], plan.prs_per_run)
    get_run_logger().info(
        "%d repositories unchanged, %d to sync in %d flow runs of %s",
        len(unchanged),
        len(needed),
        len(groups),
        plan.deployment,
    )
    if groups:
        await _check_deployment(plan.deployment)
    ran = await asyncio.gather(*(_synced(plan, group, parameters) for group in groups))
    return unchanged + [outcome for outcomes in ran for outcome in outcomes]


async def _check_deployment(name: str) -> None:
    """ConfigError now, naming the deployment, rather than a traceback per child run."""
    async with get_client() as client:
        try:
            await client.read_deployment_by_name(name)
        except ObjectNotFound as error:
            raise ConfigError(
                f"no deployment {name!r} on this Prefect server for fan_out: deploy prefect.yaml"
                " (`prefect --no-prompt deploy --all`) or name another"
            ) from error


async def _unchanged(repo: str) -> RepoOutcome:
    """What a child run would have done for a repository with nothing new: record it."""
    outcome = RepoOutcome(repo, RepoStatus.UNCHANGED)
    await tasks.record_outcome(repo, outcome.state, None)
    tell_finished(outcome)
    return outcome


async def _synced(
    plan: FanOut, group: list[RepoMeta], parameters: dict[str, Any]
) -> list[RepoOutcome]:
    """The group's outcomes: synced by a child run, the rest (not ended, or failed) by
    another, up to `plan.attempts` runs; what is left then failed."""
    outcomes: list[RepoOutcome] = []
    left, attempt = group, 0
    while True:
        attempt += 1
        run = await _child_run(plan.deployment, left, parameters)
        states = await tasks.read_states([meta.repo for meta in left])
        ended = {meta.repo: recorded_outcome(meta.repo, states[meta.repo]) for meta in left}
        outcomes += [
            o for o in ended.values() if o is not None and o.state is not RepoStatus.FAILED
        ]
        left = [meta for meta in left if meta.repo not in {o.repo for o in outcomes}]
        if not left or attempt >= plan.attempts:
            break
        get_run_logger().warning(
            "flow run %s ended %s; %s again (attempt %d of %d)",
            run.name,
            _state(run),
            ", ".join(meta.repo for meta in left),
            attempt + 1,
            plan.attempts,
        )
    outcomes += [ended[meta.repo] or _lost(meta.repo, run) for meta in left]
    for outcome in outcomes:
        tell_finished(outcome)
    return outcomes


async def _child_run(deployment: str, metas: list[RepoMeta], parameters: dict[str, Any]) -> FlowRun:
    """A child run of `metas`' repositories, waited for to its final state. It is given the
    metadata, so it asks GitHub for none again, and no fan-out of its own."""
    repos = [meta.repo for meta in metas]
    await asyncio.gather(*(tasks.record_outcome(r, RepoStatus.RUNNING, None) for r in repos))
    child = {
        **parameters,
        "repos": repos,
        "orgs": [],
        "fan_out": None,
        "metadata": [meta.to_dict() for meta in metas],
    }
    return await arun_deployment(deployment, parameters=child, timeout=None, as_subflow=True)


def _state(run: FlowRun) -> str:
    """`Crashed (Flow run marked as crashed ...)`: the run's final state, for a message."""
    if run.state is None:
        return "without a state"
    name = run.state.name or str(run.state.type)
    return f"{name} ({run.state.message})" if run.state.message else name


def _lost(repo: str, run: FlowRun) -> RepoOutcome:
    """A repository no child run ended, after the last attempt."""
    outcome = RepoOutcome(repo)
    outcome.failed(f"its flow run {run.name} ended {_state(run)} before syncing it")
    return outcome
