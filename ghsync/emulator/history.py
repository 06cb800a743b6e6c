"""What happens to a pull request over time: commits, reviews, checks, merges.

Used by the generator (to build a PR's past) and by the activity endpoint (to change it between
syncs), so generated and live changes have the same shape. PR events move `updatedAt` (`touch`);
CI events (check runs, statuses) never do, as on GitHub.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ghsync.emulator.world import APPS, CHECKS, HUMANS, MODULES, Obj, World, commit_oid, iso

REVIEW_STATES = ["APPROVED", "APPROVED", "COMMENTED", "CHANGES_REQUESTED"]
CHANGE_TYPES = ["MODIFIED", "MODIFIED", "MODIFIED", "ADDED", "DELETED", "RENAMED"]


def next_number(repo: Obj) -> int:
    """Issues and pull requests share one number sequence, as on GitHub."""
    number: int = repo["_next_number"]
    repo["_next_number"] = number + 1
    return number


def touch(pr: Obj, at: datetime) -> None:
    """Move the PR's updatedAt (never backwards) and its repository's version."""
    stamp = iso(at)
    pr["updatedAt"] = max(pr.get("updatedAt", stamp), stamp)
    pr["repository"]["_version"] += 1


def add_issue(world: World, repo: Obj, at: datetime) -> Obj:
    """An issue a pull request can close."""
    number = next_number(repo)
    issue = world.register(
        "Issue",
        number=number,
        title=f"Issue {number}",
        state="OPEN",
        closed=False,
        url=f"{repo['url']}/issues/{number}",
        createdAt=iso(at),
    )
    repo["issues"].append(issue)
    return issue


def add_commit(
    world: World, pr: Obj, at: datetime, rng: random.Random, trailer: str | None = None
) -> Obj:
    """A commit pushed to the PR's branch; it becomes the head commit."""
    index = len(pr["commits"])
    author = (
        pr["author"] if pr["author"]["__typename"] == "User" else world.actor(rng.choice(HUMANS))
    )
    lines = [
        f"{rng.choice(['Fix', 'Add', 'Update', 'Tidy'])} {rng.choice(MODULES)} step {index + 1}"
    ]
    if rng.random() < 0.1:
        other = world.actor(rng.choice(HUMANS))
        lines += ["", f"Co-authored-by: {other['login']} <{other['login']}@example.com>"]
    if trailer:
        lines += ["", trailer]
    oid = commit_oid(pr["id"], index, at.isoformat())
    actor = {
        "name": author["login"].title(),
        "email": f"{author['login']}@example.com",
        "date": iso(at),
        "user": author,
        "avatarUrl": author.get("avatarUrl", ""),
    }
    commit = world.register(
        "Commit",
        oid=oid,
        abbreviatedOid=oid[:7],
        message="\n".join(lines),
        messageHeadline=lines[0],
        authoredDate=iso(at),
        committedDate=iso(at),
        author=actor,
        committer=actor,
        additions=rng.randint(1, 80),
        deletions=rng.randint(0, 40),
        checkSuites=[],
        status=None,
        url=f"{pr['url']}/commits/{oid}",
        repository=pr["repository"],
    )
    world.commits[oid] = commit
    pr["commits"].append(
        world.register("PullRequestCommit", commit=commit, pullRequest=pr, url=commit["url"])
    )
    pr["headRefOid"] = oid
    touch(pr, at)
    return commit


def add_review(
    world: World, pr: Obj, at: datetime, rng: random.Random, state: str | None = None
) -> Obj:
    """A submitted review; now and then by the PR's own author (a comment)."""
    by_author = rng.random() < 0.08
    reviewer = pr["author"] if by_author else world.actor(rng.choice(HUMANS))
    chosen = "COMMENTED" if by_author else (state or rng.choice(REVIEW_STATES))
    review = world.register(
        "PullRequestReview",
        state=chosen,
        author=reviewer,
        body="",
        createdAt=iso(at),
        submittedAt=iso(at),
        url=f"{pr['url']}#review",
    )
    review["fullDatabaseId"] = str(review["databaseId"])
    pr["reviews"].append(review)
    touch(pr, at)
    return review


def add_check_suites(
    world: World,
    commit: Obj,
    at: datetime,
    rng: random.Random,
    runs: int = -1,
    finished: bool = True,
    queued: bool = False,
) -> None:
    """Check suites of several apps on a commit; some fail, some are re-run (flaky).
    `finished=False` leaves the runs in progress, `queued` not even started."""
    apps = [APPS[0][1]] + [slug for _, slug in APPS[1:] if rng.random() < 0.5]
    for slug in apps:
        suite = world.register(
            "CheckSuite",
            app=world.app(slug),
            status="COMPLETED",
            conclusion="SUCCESS",
            createdAt=iso(at),
            updatedAt=iso(at),
            checkRuns=[],
            workflowRun=None,
            commit=commit,
        )
        names = (
            CHECKS[slug]
            if runs < 0 or slug != "github-actions"
            else [f"matrix ({i:03d})" for i in range(runs)]
        )
        for name in names:
            add_check_run(world, suite, name, at, rng, finished=finished, queued=queued)
            if finished and rng.random() < 0.05:  # a flaky check: failed once, passed on re-run
                suite["checkRuns"][-1]["conclusion"] = "FAILURE"
                add_check_run(
                    world, suite, name, at + timedelta(minutes=9), rng, conclusion="SUCCESS"
                )
        settle_suite(suite)
        commit["checkSuites"].append(suite)


def add_check_run(
    world: World,
    suite: Obj,
    name: str,
    at: datetime,
    rng: random.Random,
    *,
    finished: bool = True,
    queued: bool = False,
    conclusion: str | None = None,
) -> Obj:
    """One check run in a suite; `finished=False` leaves it in progress, `queued` (with
    finished False) not started."""
    started = at + timedelta(seconds=rng.randint(5, 60))
    done = started + timedelta(seconds=rng.randint(20, 900))
    outcome = conclusion or ("FAILURE" if rng.random() < 0.1 else "SUCCESS")
    waiting = queued and not finished
    run = world.register(
        "CheckRun",
        name=name,
        checkSuite=suite,
        status="COMPLETED" if finished else "QUEUED" if waiting else "IN_PROGRESS",
        conclusion=outcome if finished else None,
        startedAt=None if waiting else iso(started),
        completedAt=iso(done) if finished else None,
        detailsUrl="https://ci.example/run",
    )
    suite["checkRuns"].append(run)
    return run


def finish_ci(commit: Obj, at: datetime, rng: random.Random) -> None:
    """Every unfinished check run of the commit completes at `at` (one in ten fails), its
    suites settle, and pending statuses turn final."""
    for suite in commit["checkSuites"]:
        for run in suite["checkRuns"]:
            if run["status"] != "COMPLETED":
                run["status"], run["completedAt"] = "COMPLETED", iso(at)
                run["startedAt"] = run["startedAt"] or iso(at)
                run["conclusion"] = "FAILURE" if rng.random() < 0.1 else "SUCCESS"
        settle_suite(suite)
    status = commit["status"]
    for context in status["contexts"] if status else []:
        if context["state"] == "PENDING":
            context["state"], context["createdAt"] = "SUCCESS", iso(at)
            context["description"] = "Build success"
    if status:
        status["state"] = combined_state([c["state"] for c in status["contexts"]])


def settle_suite(suite: Obj) -> None:
    """A suite's status and conclusion follow its latest run of each name."""
    latest = {run["name"]: run for run in suite["checkRuns"]}.values()
    if latest and all(run["status"] == "QUEUED" for run in latest):
        suite["status"], suite["conclusion"] = "QUEUED", None
    elif any(run["status"] != "COMPLETED" for run in latest):
        suite["status"], suite["conclusion"] = "IN_PROGRESS", None
    else:
        failed = any(run["conclusion"] == "FAILURE" for run in latest)
        suite["status"], suite["conclusion"] = "COMPLETED", "FAILURE" if failed else "SUCCESS"


def add_statuses(world: World, commit: Obj, at: datetime, rng: random.Random) -> None:
    """Legacy commit statuses (Status API) on a commit."""
    post_status(world, commit, at, rng.choice(["SUCCESS", "SUCCESS", "FAILURE", "PENDING"]))


def post_status(world: World, commit: Obj, at: datetime, state: str) -> None:
    """A status of the `ci/jenkins` context posted on the commit: it replaces that context's
    earlier one (a combined status shows the latest per context)."""
    context = world.register(
        "StatusContext",
        context="ci/jenkins",
        state=state,
        description=f"Build {state.lower()}",
        targetUrl="https://ci.example",
        createdAt=iso(at),
        creator=None,
    )
    if commit["status"] is None:
        commit["status"] = world.register("Status", state=state, contexts=[], commit=commit)
    status = commit["status"]
    status["contexts"] = [c for c in status["contexts"] if c["context"] != "ci/jenkins"]
    status["contexts"].append(context)
    status["state"] = combined_state([c["state"] for c in status["contexts"]])


def combined_state(states: list[str]) -> str:
    """GitHub's combined status: any error or failure fails it, else any pending is pending."""
    if any(state in ("ERROR", "FAILURE") for state in states):
        return "FAILURE"
    return "PENDING" if any(state == "PENDING" for state in states) else "SUCCESS"


def fill_pull_request(
    world: World, pr: Obj, created: datetime, anchor: datetime, rng: random.Random
) -> None:
    """Build a generated PR's past from its plan, every timestamp between creation and anchor."""
    plan = pr.pop("_plan")
    repo = pr["repository"]
    pr["createdAt"] = pr["updatedAt"] = iso(created)
    pr["isDraft"] = plan["draft"]
    # Work on a PR takes hours to days (lognormal, median ~20 h), never past the anchor.
    span = max(min((anchor - created).total_seconds(), 3600 * rng.lognormvariate(3.0, 1.0)), 60.0)

    def at(share: float) -> datetime:
        return created + timedelta(seconds=span * min(share, 1.0))

    for i in range(plan["commits"]):
        first = created - timedelta(hours=rng.uniform(0.5, 48))
        moment = first if i == 0 else at(0.4 * i / plan["commits"])
        add_commit(
            world,
            pr,
            min(moment, anchor),
            rng,
            plan["ai_trailer"] if i == plan["commits"] - 1 else None,
        )
    head = pr["commits"][-1]["commit"]
    add_check_suites(
        world,
        head,
        at(0.45),
        rng,
        runs=plan["checks"],
        finished=plan["state"] != "OPEN" or rng.random() < 0.8,
    )
    if plan["statuses"]:
        add_statuses(world, head, at(0.45), rng)
    for i in range(plan["reviews"]):
        add_review(world, pr, at(0.1 + 0.4 * i / plan["reviews"]), rng)
    for i in range(plan["files"]):
        deleted = rng.random() < 0.05
        pr["files"].append(
            {
                "__typename": "PullRequestChangedFile",
                "path": f"src/{rng.choice(MODULES)}/file_{i:03d}.py",
                "additions": 0 if deleted else rng.randint(1, 120),
                "deletions": rng.randint(0, 60),
                "changeType": "DELETED" if deleted else rng.choice(CHANGE_TYPES),
                "viewerViewedState": "UNVIEWED",
            }
        )
    pr["labels"] = (
        rng.sample(repo["labels"], plan["labels"])
        if plan["labels"] > 12
        else rng.sample(repo["labels"][:12], plan["labels"])
    )
    pr["assignees"] = [world.actor(login) for login in rng.sample(HUMANS, rng.choice([0, 1, 1, 2]))]
    pr["milestone"] = rng.choice(repo["milestones"]) if rng.random() < 0.3 else None
    for _ in range(plan["links"]):
        pr["closingIssuesReferences"].append(add_issue(world, repo, created))
    teams = repo["owner"]["teams"]
    for i in range(plan["requests"]):
        reviewer = teams[i % len(teams)] if i % 3 == 2 else world.actor(HUMANS[i % len(HUMANS)])
        pr["reviewRequests"].append(
            world.register(
                "ReviewRequest", requestedReviewer=reviewer, asCodeOwner=False, pullRequest=pr
            )
        )
    if plan["state"] != "OPEN":
        close_pull_request(world, pr, at(rng.uniform(0.6, 1.0)), merge=plan["state"] == "MERGED")
    else:
        pr["updatedAt"] = min(pr["updatedAt"], iso(anchor))
    recount(pr)


def close_pull_request(world: World, pr: Obj, at: datetime, *, merge: bool) -> None:
    """Merge or close an open PR."""
    pr["state"] = "MERGED" if merge else "CLOSED"
    pr["merged"], pr["isDraft"] = merge, False
    pr["closedAt"] = iso(at)
    pr["mergedAt"] = iso(at) if merge else None
    pr["mergedBy"] = world.actor(HUMANS[0]) if merge else None
    touch(pr, at)


def recount(pr: Obj) -> None:
    """additions, deletions and changedFiles follow the file list."""
    pr["additions"] = sum(f["additions"] for f in pr["files"])
    pr["deletions"] = sum(f["deletions"] for f in pr["files"])
    pr["changedFiles"] = len(pr["files"])
    pr.setdefault("closedAt", None)
    pr.setdefault("mergedAt", None)
