"""Changes between syncs (admin endpoint): what a busy team does to its pull requests.

PR events (reviews, pushes, labels, state changes) move the PR's updatedAt; CI events (checks
queued, finished or re-run, statuses posted) do not, as on GitHub: a sync learns of them only by
asking about the commit again. A push leaves its CI running, until `finish_checks`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from ghsync.emulator.dataset import add_pull_request
from ghsync.emulator.history import (
    add_check_run,
    add_check_suites,
    add_commit,
    add_review,
    close_pull_request,
    fill_pull_request,
    finish_ci,
    post_status,
    recount,
    settle_suite,
    touch,
)
from ghsync.emulator.world import Obj, World

ACTIONS = (
    "touch",
    "add_review",
    "add_commit",
    "open",
    "merge",
    "close",
    "rerun_checks",
    "queue_checks",
    "finish_checks",
    "post_status",
    "remove_label",
    "add_label",
    "remove_file",
)


class ActivityError(ValueError):
    """An activity that cannot apply (unknown repo, PR, or action)."""


def apply_activity(
    world: World,
    rng: random.Random,
    action: str,
    repo_name: str,
    number: int | None = None,
    at: datetime | None = None,
) -> Obj:
    """Apply one change at `at` (default: now) and return the pull request it changed."""
    if action not in ACTIONS:
        raise ActivityError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    owner, _, name = repo_name.partition("/")
    repo = world.find_repo(owner, name)
    if repo is None:
        raise ActivityError(f"unknown repository {repo_name!r}")
    moment = (at or datetime.now(UTC)).replace(microsecond=0)
    if action == "open":
        pr = _open(world, repo, rng, moment)
    else:
        pr = _find_pr(repo, number)
        _CHANGES[action](world, pr, rng, moment)
    recount(pr)
    repo["pushedAt"] = max(repo["pushedAt"], pr["updatedAt"])
    return pr


def _find_pr(repo: Obj, number: int | None) -> Obj:
    found: list[Obj] = [pr for pr in repo["pullRequests"] if pr["number"] == number]
    if found:
        return found[0]
    raise ActivityError(f"no pull request #{number} in {repo['nameWithOwner']}")


def _open(world: World, repo: Obj, rng: random.Random, at: datetime) -> Obj:
    pr = add_pull_request(world, repo, rng, heavy=False)
    pr["_plan"]["state"] = "OPEN"
    fill_pull_request(world, pr, at, at, rng)
    return pr


def _head(pr: Obj) -> Obj:
    head: Obj = pr["commits"][-1]["commit"]
    return head


def _rerun_checks(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    """Re-run the head commit's first check: a new run of the same name starts (the finished
    one stays in the history). Like all CI, it leaves the PR's updatedAt alone, as GitHub does."""
    head = _head(pr)
    if not head["checkSuites"]:
        add_check_suites(world, head, at, rng, finished=False)
        return
    suite = head["checkSuites"][0]
    add_check_run(world, suite, suite["checkRuns"][0]["name"], at, rng, finished=False)
    settle_suite(suite)


def _queue_checks(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    """A new check suite on the head commit, queued: its runs have not started."""
    add_check_suites(world, _head(pr), at, rng, finished=False, queued=True)


def _finish_checks(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    """Every unfinished check run and pending status of the head commit finishes."""
    finish_ci(_head(pr), at, rng)


def _post_status(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    """A legacy CI posts a pending status on the head commit (a build started)."""
    post_status(world, _head(pr), at, "PENDING")


def _add_label(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    unused = [label for label in pr["repository"]["labels"] if label not in pr["labels"]]
    pr["labels"].append(rng.choice(unused))
    touch(pr, at)


def _remove_first(key: str) -> Any:
    def change(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
        if not pr[key]:
            raise ActivityError(f"#{pr['number']} has no {key} to remove")
        pr[key].pop(0)
        touch(pr, at)

    return change


def _close(world: World, pr: Obj, at: datetime, *, merge: bool) -> None:
    if pr["state"] != "OPEN":
        raise ActivityError(f"#{pr['number']} is {pr['state']}, not OPEN")
    close_pull_request(world, pr, at, merge=merge)


def _new_commit(world: World, pr: Obj, rng: random.Random, at: datetime) -> None:
    commit = add_commit(world, pr, at, rng)
    add_check_suites(world, commit, at, rng, finished=False)  # CI runs after the push
    pr["files"].append(
        {
            "__typename": "PullRequestChangedFile",
            "path": f"src/new_{at:%H%M%S}.py",
            "additions": 10,
            "deletions": 0,
            "changeType": "ADDED",
            "viewerViewedState": "UNVIEWED",
        }
    )


_CHANGES: dict[str, Any] = {
    "touch": lambda world, pr, rng, at: touch(pr, at),
    "add_review": lambda world, pr, rng, at: add_review(world, pr, at, rng),
    "add_commit": _new_commit,
    "merge": lambda world, pr, rng, at: _close(world, pr, at, merge=True),
    "close": lambda world, pr, rng, at: _close(world, pr, at, merge=False),
    "rerun_checks": _rerun_checks,
    "queue_checks": _queue_checks,
    "finish_checks": _finish_checks,
    "post_status": _post_status,
    "add_label": _add_label,
    "remove_label": _remove_first("labels"),
    "remove_file": _remove_first("files"),
}
