"""CI that settles after its pull request's last update.

GitHub does not move a PR's `updatedAt` when check runs are queued, finish or are re-run, nor
when a commit status is posted (shared/github/FACTS.md, "CI and updatedAt"), so an incremental
sync never sees those changes through its PR pages. Instead every run asks again about the head
commits it knows are not settled (and, for re-runs of finished checks, those of recently updated
open PRs): the sync state keeps them as `PendingCheck`s, the rules are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ghsync.nodes import CommitChecks, items

SETTLED_RUN = "COMPLETED"
UNSETTLED_SUITES = frozenset({"REQUESTED", "QUEUED", "IN_PROGRESS", "WAITING", "PENDING"})
"""CheckStatusState values of a suite that is still going (COMPLETED is the only final one)."""
UNSETTLED_STATUSES = frozenset({"PENDING", "EXPECTED"})
"""StatusState values of a legacy commit status that will still change."""


@dataclass(frozen=True)
class PendingCheck:
    """A PR's head commit whose check runs and statuses the next run must fetch: never fetched
    (deferred: the tokens were low) or fetched before its CI settled."""

    number: int
    commit_id: str
    """The head commit's GraphQL node id (the input of the CheckRuns query)."""

    def encode(self) -> str:
        """As stored in `sync_state.pending_check_runs`: `number:commit_id`."""
        return f"{self.number}:{self.commit_id}"

    @classmethod
    def decode(cls, text: str) -> PendingCheck:
        number, _, commit_id = text.partition(":")
        return cls(int(number), commit_id)


def is_settled(commit: CommitChecks) -> bool:
    """Whether nothing of the commit's CI can change any more without a new push or a re-run:
    every check suite and run completed, no legacy status pending."""
    for suite in items(commit["checkSuites"]):
        if suite["status"] in UNSETTLED_SUITES:
            return False
        if any(run["status"] != SETTLED_RUN for run in items(suite["checkRuns"])):
            return False
    contexts = commit["status"]["contexts"] if commit["status"] else []
    return not any(context["state"] in UNSETTLED_STATUSES for context in contexts)


def unsettled(
    heads: Iterable[PendingCheck], commits: Mapping[str, CommitChecks]
) -> list[PendingCheck]:
    """The heads whose fetched CI (`commits`, by node id) is not settled yet. A head GitHub did
    not return (force-pushed away, PR deleted) has nothing left to wait for."""
    return [
        head
        for head in heads
        if head.commit_id in commits and not is_settled(commits[head.commit_id])
    ]


def replace_pending(
    pending: Iterable[PendingCheck], numbers: Iterable[int], new: Iterable[PendingCheck]
) -> tuple[PendingCheck, ...]:
    """`pending` without the entries of the PRs `numbers` (their CI was just fetched, or their
    head moved), plus `new`: one entry per PR, the newest."""
    replaced = set(numbers)
    kept = {p.number: p for p in pending if p.number not in replaced}
    kept.update({p.number: p for p in new})
    return tuple(kept.values())
