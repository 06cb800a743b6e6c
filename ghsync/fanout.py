"""How a parent run shares its repositories among flow runs of a child deployment, so that
workers on many machines do the work: which repositories need a child run at all, in which
batches, and how each one ended, read back from the warehouse (a child's return value stays on
its worker's machine). Pure functions; the flow (`flows/fanout.py`) runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ghsync.ci import PendingCheck
from ghsync.config import SyncOptions
from ghsync.errors import ConfigError
from ghsync.github.fetch import RepoMeta
from ghsync.outcome import RepoOutcome
from ghsync.session import ci_due, start_session
from ghsync.state import RepoStatus, SyncState

FINISHED = {RepoStatus.SYNCED, RepoStatus.UNCHANGED}
FAILED = {RepoStatus.FAILED, RepoStatus.NOT_FOUND}


@dataclass(frozen=True)
class FanOut:
    """A parent run's plan: the child deployment (`flow/deployment`), the PRs a child run
    takes at most (a repository with more runs alone), and how many times a repository's child
    run is started before it counts as failed. Checked on construction, like SyncOptions."""

    deployment: str
    prs_per_run: int = 500
    attempts: int = 3

    def __post_init__(self) -> None:
        bad = [
            f"{name} must be at least 1, not {value}"
            for name, value in (
                ("fan_out_prs", self.prs_per_run),
                ("fan_out_attempts", self.attempts),
            )
            if value < 1
        ]
        if "/" not in self.deployment:
            bad.append(
                f"fan_out must name a deployment as FLOW/DEPLOYMENT, not {self.deployment!r}"
            )
        if bad:
            raise ConfigError("; ".join(bad))


def needs_run(
    state: SyncState,
    newest_update: datetime | None,
    options: SyncOptions,
    now: datetime,
    recent: Iterable[PendingCheck] = (),
) -> bool:
    """Whether a child run has anything to do for the repository: a session to open or resume
    (the same rules as the sync's own), or CI due (pending from earlier runs, or the `recent`
    open PRs' heads when `ci_recheck_days` asks for them). Otherwise it would only record
    `unchanged`, which the parent does itself, starting no flow run."""
    if start_session(state, newest_update, options, now) is not None:
        return True
    return bool(ci_due(state, (), recent))


def batches(metas: Sequence[RepoMeta], prs_per_run: int) -> list[list[RepoMeta]]:
    """The repositories in child runs' batches, biggest first (they take longest): one of
    `prs_per_run` PRs or more alone, each smaller one in the first batch it fits in
    (first-fit decreasing; a repository counts at least one PR, so no batch grows unbounded)."""
    runs: list[list[RepoMeta]] = []
    room: list[int] = []
    for meta in sorted(metas, key=lambda m: m.pr_count, reverse=True):
        weight = max(1, meta.pr_count)
        place = next((i for i, left in enumerate(room) if weight <= left), len(runs))
        if place == len(runs):
            runs.append([])
            room.append(prs_per_run)
        runs[place].append(meta)
        room[place] -= weight
    return runs


def recorded_outcome(repo: str, state: SyncState | None) -> RepoOutcome | None:
    """The outcome a child run recorded for `repo` in the warehouse (synced, unchanged, or
    failed with its error); None when none did: the run died before it ended the repository
    (the parent marked it `running` when it started the run)."""
    if state is None or state.status not in FINISHED | FAILED:
        return None
    outcome = RepoOutcome(repo, RepoStatus(state.status))
    if state.status in FAILED:
        outcome.failed(state.error or str(state.status))
    return outcome


DEFAULT_FAN_OUT = FanOut("sync-repos/sync-repo")
"""The child deployment of prefect.yaml, and the defaults of the flow's fan-out parameters."""
