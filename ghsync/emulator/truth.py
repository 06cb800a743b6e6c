"""Ground truth: a repository's pull requests with every nested list complete (admin endpoint).

Tests compare the warehouse against this, so it is written from the world directly, not through
GraphQL and its pagination.
"""

from __future__ import annotations

from typing import Any

from ghsync.emulator.world import Obj, World


def _login(actor: Obj | None) -> str | None:
    return None if actor is None else actor["login"]


def _reviewer(reviewer: Obj) -> str:
    if reviewer["__typename"] == "Team":
        return f"{reviewer['organization']['login']}/{reviewer['slug']}"
    return str(reviewer["login"])


def _commit(commit: Obj) -> dict[str, Any]:
    author = commit["author"]
    return {
        "oid": commit["oid"],
        "message": commit["message"],
        "authoredDate": commit["authoredDate"],
        "committedDate": commit["committedDate"],
        "authorEmail": author["email"],
        "authorName": author["name"],
        "authorLogin": _login(author["user"]),
    }


def _check_runs(commit: Obj) -> list[dict[str, Any]]:
    return [
        {
            "databaseId": run["databaseId"],
            "app": suite["app"]["slug"],
            "name": run["name"],
            "status": run["status"],
            "conclusion": run["conclusion"],
            "startedAt": run["startedAt"],
            "completedAt": run["completedAt"],
        }
        for suite in commit["checkSuites"]
        for run in suite["checkRuns"]
    ]


def _pull_request(pr: Obj) -> dict[str, Any]:
    head = pr["commits"][-1]["commit"] if pr["commits"] else None
    status = head["status"] if head else None
    scalars = (
        "id",
        "number",
        "title",
        "body",
        "state",
        "isDraft",
        "createdAt",
        "updatedAt",
        "closedAt",
        "mergedAt",
        "additions",
        "deletions",
        "changedFiles",
        "baseRefName",
        "headRefName",
        "headRefOid",
    )
    return {
        **{key: pr[key] for key in scalars},
        "author": _login(pr["author"]),
        "authorType": pr["author"]["__typename"] if pr["author"] else None,
        "milestone": pr["milestone"]["title"] if pr["milestone"] else None,
        "labels": [label["name"] for label in pr["labels"]],
        "assignees": [user["login"] for user in pr["assignees"]],
        "linkedIssues": [issue["number"] for issue in pr["closingIssuesReferences"]],
        "requestedReviewers": [_reviewer(r["requestedReviewer"]) for r in pr["reviewRequests"]],
        "reviews": [
            {
                "databaseId": r["databaseId"],
                "state": r["state"],
                "author": _login(r["author"]),
                "submittedAt": r["submittedAt"],
            }
            for r in pr["reviews"]
        ],
        "commits": [_commit(c["commit"]) for c in pr["commits"]],
        "files": [
            {key: f[key] for key in ("path", "additions", "deletions", "changeType")}
            for f in pr["files"]
        ],
        "checkRuns": _check_runs(head) if head else [],
        "statuses": [
            {"context": c["context"], "state": c["state"], "createdAt": c["createdAt"]}
            for c in status["contexts"]
        ]
        if status
        else [],
    }


def repository_truth(world: World, owner: str, name: str) -> dict[str, Any] | None:
    """Everything GitHub knows of one repository's pull requests, or None if unknown."""
    repo = world.find_repo(owner, name)
    if repo is None:
        return None
    return {
        "repo": repo["nameWithOwner"],
        "id": repo["id"],
        "isArchived": repo["isArchived"],
        "pushedAt": repo["pushedAt"],
        "pullRequests": [_pull_request(pr) for pr in repo["pullRequests"]],
    }


def summary(world: World) -> dict[str, Any]:
    """Counts of what the emulator serves, per repository (the demo prints this)."""
    repos = []
    for repo in world.repos.values():
        prs = repo["pullRequests"]
        repos.append(
            {
                "repo": repo["nameWithOwner"],
                "archived": repo["isArchived"],
                "pullRequests": len(prs),
                "open": sum(pr["state"] == "OPEN" for pr in prs),
                "merged": sum(pr["state"] == "MERGED" for pr in prs),
                "reviews": sum(len(pr["reviews"]) for pr in prs),
                "commits": sum(len(pr["commits"]) for pr in prs),
                "files": sum(len(pr["files"]) for pr in prs),
                "checkRuns": sum(len(_check_runs(pr["commits"][-1]["commit"])) for pr in prs),
                "over100": sum(
                    any(len(pr[k]) > 100 for k in ("reviews", "commits", "files", "labels"))
                    or len(_check_runs(pr["commits"][-1]["commit"])) > 100
                    for pr in prs
                ),
            }
        )
    orgs = {org["login"]: [r["name"] for r in org["repositories"]] for org in world.orgs.values()}
    return {"orgs": orgs, "repositories": repos}
