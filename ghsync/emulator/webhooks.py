"""GitHub's webhook deliveries for the emulator's activities, as a repository or organization
webhook receives them.

What such a hook gets, and what it does not (GitHub's awkward parts, modelled on purpose):
`check_run` only `created` and `completed`, `check_suite` only `completed` (`requested` and
`rerequested` go to GitHub Apps alone); `pull_requests` of a check run or suite is empty when
the PR's head is in a fork (`EmulatorConfig.webhook_fork_heads`), so a receiver must go by
`head_sha`; CI never moves the PR (no `pull_request` event for it); a failed delivery is never
retried, only redelivered by hand (`POST /_emulator/redeliver`).

Payloads use the REST (snake_case) shapes, mapped from the world's GraphQL-shaped objects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ghsync.emulator.world import Obj, commit_oid

API = "https://api.github.com"
PR_EVENTS: dict[str, str] = {
    "touch": "edited",
    "add_review": "submitted",
    "add_commit": "synchronize",
    "open": "opened",
    "merge": "closed",
    "close": "closed",
    "add_label": "labeled",
    "remove_label": "unlabeled",
    "remove_file": "synchronize",
}
"""Activity -> the action of its `pull_request` (or, for a review, `pull_request_review`) event;
the CI activities are absent: what they send follows from the CI diff alone."""

Event = tuple[str, dict[str, Any]]


def sign(secret: str, body: bytes) -> str:
    """`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """A PR before an activity: its head commit's CI, and what a diff cannot recover."""

    head_sha: str | None = None
    runs: dict[int, str] = field(default_factory=dict)
    """check run databaseId -> status"""
    suites: dict[int, str] = field(default_factory=dict)
    """check suite databaseId -> status"""
    statuses: dict[int, str] = field(default_factory=dict)
    """status context databaseId -> state"""
    labels: tuple[Obj, ...] = ()


def snapshot(pr: Obj | None) -> Snapshot:
    """Take a PR's snapshot (None, before `open`: an empty one)."""
    if pr is None:
        return Snapshot()
    head = _head(pr)
    status = head["status"]
    return Snapshot(
        head_sha=head["oid"],
        runs={
            run["databaseId"]: run["status"]
            for suite in head["checkSuites"]
            for run in suite["checkRuns"]
        },
        suites={suite["databaseId"]: suite["status"] for suite in head["checkSuites"]},
        statuses={c["databaseId"]: c["state"] for c in status["contexts"]} if status else {},
        labels=tuple(pr["labels"]),
    )


def activity_events(
    action: str, repo: Obj, pr: Obj, before: Snapshot, *, fork_heads: bool = False
) -> list[Event]:
    """The (event name, payload) deliveries GitHub sends a repository/organization hook after
    `action` changed `pr`, in GitHub's order: the push, the PR event, then CI."""
    events: list[Event] = []
    if action == "add_commit":
        events.append(("push", _push(repo, pr, before.head_sha)))
    if action == "add_review":
        events.append(("pull_request_review", _review_event(repo, pr)))
    elif action in PR_EVENTS:
        events.append(("pull_request", _pr_event(action, repo, pr, before)))
    if action == "merge":
        events.append(("push", _merge_push(repo, pr)))
    events += _ci_events(repo, pr, before, [] if fork_heads else [_pr_ref(repo, pr)])
    return events


# --- shapes -----------------------------------------------------------------------------------


def _head(pr: Obj) -> Obj:
    head: Obj = pr["commits"][-1]["commit"]
    return head


def _merge_sha(pr: Obj) -> str:
    return commit_oid(pr["id"], "merge")


def _base_tip(repo: Obj, without: Obj | None = None) -> str:
    """The base branch's tip: the emulator keeps no base history, so the merge commit of the
    latest merged PR (`without` one: the tip before it merged)."""
    merged = [p for p in repo["pullRequests"] if p["merged"] and p is not without]
    if not merged:
        return commit_oid(repo["id"], "main")
    return _merge_sha(max(merged, key=lambda p: p["mergedAt"]))


def _user(actor: Obj) -> dict[str, Any]:
    """A REST user: a Bot's login ends in `[bot]` there (not in GraphQL)."""
    bot = actor["__typename"] == "Bot"
    return {
        "login": f"{actor['login']}[bot]" if bot else actor["login"],
        "id": actor["databaseId"],
        "node_id": actor["id"],
        "type": actor["__typename"],
        "html_url": actor["url"],
        "site_admin": False,
    }


def _app_bot(app: Obj) -> dict[str, Any]:
    """The sender of an app's CI events: its bot user."""
    return {
        "login": f"{app['slug']}[bot]",
        "id": app["databaseId"],
        "node_id": app["id"],
        "type": "Bot",
        "html_url": f"https://github.com/apps/{app['slug']}",
        "site_admin": False,
    }


def _repository(repo: Obj) -> dict[str, Any]:
    owner, full = repo["owner"], repo["nameWithOwner"]
    return {
        "id": repo["databaseId"],
        "node_id": repo["id"],
        "name": repo["name"],
        "full_name": full,
        "private": repo["isPrivate"],
        "owner": {
            "login": owner["login"],
            "id": owner["databaseId"],
            "node_id": owner["id"],
            "type": owner["__typename"],
        },
        "html_url": repo["url"],
        "url": f"{API}/repos/{full}",
        "fork": repo["isFork"],
        "archived": repo["isArchived"],
        "default_branch": "main",
    }


def _envelope(repo: Obj, sender: dict[str, Any], **payload: Any) -> dict[str, Any]:
    """What every delivery carries: repository, sender, and organization for an org's repo."""
    body = {**payload, "repository": _repository(repo), "sender": sender}
    owner = repo["owner"]
    if owner["__typename"] == "Organization":
        body["organization"] = {
            "login": owner["login"],
            "id": owner["databaseId"],
            "node_id": owner["id"],
        }
    return body


def _label(label: Obj) -> dict[str, Any]:
    return {
        "id": label["databaseId"],
        "node_id": label["id"],
        "name": label["name"],
        "color": label["color"],
        "description": label["description"],
    }


def _branch(repo: Obj, ref: str, sha: str) -> dict[str, Any]:
    owner = repo["owner"]["login"]
    return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "repo": _repository(repo)}


def _pull_request(repo: Obj, pr: Obj) -> dict[str, Any]:
    full, number = repo["nameWithOwner"], pr["number"]
    merged_by = pr["mergedBy"]
    return {
        "id": pr["databaseId"],
        "node_id": pr["id"],
        "number": number,
        "state": "open" if pr["state"] == "OPEN" else "closed",
        "locked": pr["locked"],
        "title": pr["title"],
        "body": pr["body"],
        "user": _user(pr["author"]),
        "labels": [_label(label) for label in pr["labels"]],
        "created_at": pr["createdAt"],
        "updated_at": pr["updatedAt"],
        "closed_at": pr["closedAt"],
        "merged_at": pr["mergedAt"],
        "merge_commit_sha": _merge_sha(pr) if pr["merged"] else None,
        "merged": pr["merged"],
        "merged_by": _user(merged_by) if merged_by else None,
        "draft": pr["isDraft"],
        "head": _branch(repo, pr["headRefName"], pr["headRefOid"]),
        "base": _branch(repo, pr["baseRefName"], _base_tip(repo, without=pr)),
        "html_url": pr["url"],
        "url": f"{API}/repos/{full}/pulls/{number}",
        "commits": len(pr["commits"]),
        "additions": pr["additions"],
        "deletions": pr["deletions"],
        "changed_files": pr["changedFiles"],
    }


def _pr_event(action: str, repo: Obj, pr: Obj, before: Snapshot) -> dict[str, Any]:
    kind = PR_EVENTS[action]
    sender = pr["mergedBy"] if action == "merge" else pr["author"]
    extra: dict[str, Any] = {}
    if kind == "synchronize":
        extra = {"before": before.head_sha, "after": pr["headRefOid"]}
        sender = _head(pr)["author"]["user"] if action == "add_commit" else pr["author"]
    elif kind == "edited":
        extra = {"changes": {}}
    elif kind in ("labeled", "unlabeled"):
        old = {label["id"] for label in before.labels}
        new = {label["id"] for label in pr["labels"]}
        pool = pr["labels"] if kind == "labeled" else before.labels
        (changed,) = [label for label in pool if (label["id"] in old) != (label["id"] in new)]
        extra = {"label": _label(changed)}
    return _envelope(
        repo,
        _user(sender),
        action=kind,
        number=pr["number"],
        pull_request=_pull_request(repo, pr),
        **extra,
    )


def _review_event(repo: Obj, pr: Obj) -> dict[str, Any]:
    review = pr["reviews"][-1]
    user = _user(review["author"])
    return _envelope(
        repo,
        user,
        action="submitted",
        review={
            "id": review["databaseId"],
            "node_id": review["id"],
            "user": user,
            "body": review["body"] or None,
            "state": review["state"].lower(),
            "submitted_at": review["submittedAt"],
            "commit_id": pr["headRefOid"],
            "html_url": f"{pr['url']}#pullrequestreview-{review['databaseId']}",
            "pull_request_url": f"{API}/repos/{repo['nameWithOwner']}/pulls/{pr['number']}",
        },
        pull_request=_pull_request(repo, pr),
    )


def _push_commit(commit: Obj) -> dict[str, Any]:
    def person(actor: Obj) -> dict[str, Any]:
        return {"name": actor["name"], "email": actor["email"], "username": actor["user"]["login"]}

    return {
        "id": commit["oid"],
        "tree_id": commit_oid(commit["oid"], "tree"),
        "distinct": True,
        "message": commit["message"],
        "timestamp": commit["committedDate"],
        "url": commit["url"],
        "author": person(commit["author"]),
        "committer": person(commit["committer"]),
        "added": [],
        "removed": [],
        "modified": [],
    }


def _push_payload(
    repo: Obj, ref: str, before: str | None, after: str, commits: list[dict[str, Any]], by: Obj
) -> dict[str, Any]:
    full = repo["nameWithOwner"]
    return _envelope(
        repo,
        _user(by),
        ref=f"refs/heads/{ref}",
        before=before or "0" * 40,
        after=after,
        created=before is None,
        deleted=False,
        forced=False,
        base_ref=None,
        compare=f"https://github.com/{full}/compare/{(before or '0' * 40)[:12]}...{after[:12]}",
        commits=commits,
        head_commit=commits[-1] if commits else None,
        pusher={"name": by["login"], "email": by.get("email")},
    )


def _push(repo: Obj, pr: Obj, before: str | None) -> dict[str, Any]:
    head = _head(pr)
    commits = [_push_commit(head)]
    pusher = head["author"]["user"]
    return _push_payload(repo, pr["headRefName"], before, head["oid"], commits, pusher)


def _merge_push(repo: Obj, pr: Obj) -> dict[str, Any]:
    """The merge commit landing on the base branch."""
    before, after = _base_tip(repo, without=pr), _merge_sha(pr)
    by, at = pr["mergedBy"], pr["mergedAt"]
    person = {"name": by["login"].title(), "email": by.get("email"), "username": by["login"]}
    merge = {
        "id": after,
        "tree_id": commit_oid(after, "tree"),
        "distinct": True,
        "message": f"Merge pull request #{pr['number']} from {pr['headRefName']}\n\n{pr['title']}",
        "timestamp": at,
        "url": f"{repo['url']}/commit/{after}",
        "author": person,
        "committer": person,
        "added": [],
        "removed": [],
        "modified": [],
    }
    return _push_payload(repo, pr["baseRefName"], before, after, [merge], by)


def _pr_ref(repo: Obj, pr: Obj) -> dict[str, Any]:
    """A PR as check runs and suites list it (a minimal shape, as on GitHub)."""
    mini = {
        "id": repo["databaseId"],
        "url": f"{API}/repos/{repo['nameWithOwner']}",
        "name": repo["name"],
    }
    return {
        "id": pr["databaseId"],
        "number": pr["number"],
        "url": f"{API}/repos/{repo['nameWithOwner']}/pulls/{pr['number']}",
        "head": {"ref": pr["headRefName"], "sha": pr["headRefOid"], "repo": mini},
        "base": {"ref": pr["baseRefName"], "sha": _base_tip(repo, without=pr), "repo": mini},
    }


def _lower(value: str | None) -> str | None:
    return value.lower() if value else None


def _suite(suite: Obj, head: Obj, pr: Obj, pull_requests: list[dict[str, Any]]) -> dict[str, Any]:
    app = suite["app"]
    return {
        "id": suite["databaseId"],
        "node_id": suite["id"],
        "head_branch": pr["headRefName"],
        "head_sha": head["oid"],
        "status": suite["status"].lower(),
        "conclusion": _lower(suite["conclusion"]),
        "app": {
            "id": app["databaseId"],
            "node_id": app["id"],
            "slug": app["slug"],
            "name": app["name"],
        },
        "pull_requests": pull_requests,
        "created_at": suite["createdAt"],
        "updated_at": suite["updatedAt"],
    }


def _check_run(run: Obj, head: Obj, pr: Obj, pull_requests: list[dict[str, Any]]) -> dict[str, Any]:
    suite = _suite(run["checkSuite"], head, pr, pull_requests)
    brief = ("id", "node_id", "head_branch", "head_sha", "status", "conclusion", "pull_requests")
    return {
        "id": run["databaseId"],
        "node_id": run["id"],
        "head_sha": head["oid"],
        "external_id": "",
        "name": run["name"],
        "status": run["status"].lower(),
        "conclusion": _lower(run["conclusion"]),
        "started_at": run["startedAt"],
        "completed_at": run["completedAt"],
        "details_url": run["detailsUrl"],
        "html_url": f"{pr['repository']['url']}/runs/{run['databaseId']}",
        "app": suite["app"],
        "check_suite": {key: suite[key] for key in brief},
        "pull_requests": pull_requests,
    }


def _ci_events(
    repo: Obj, pr: Obj, before: Snapshot, pull_requests: list[dict[str, Any]]
) -> list[Event]:
    """check_run created/completed, check_suite completed and status events: the head's CI
    now against `before`. A run both new and finished sends created, then completed."""
    head = _head(pr)
    events: list[Event] = []
    for suite in head["checkSuites"]:
        sender = _app_bot(suite["app"])
        for run in suite["checkRuns"]:
            was = before.runs.get(run["databaseId"])
            actions = ["created"] if was is None else []
            if run["status"] == "COMPLETED" and was != "COMPLETED":
                actions.append("completed")
            for action in actions:
                check_run = _check_run(run, head, pr, pull_requests)
                events.append(
                    ("check_run", _envelope(repo, sender, action=action, check_run=check_run))
                )
    for suite in head["checkSuites"]:
        if suite["status"] == "COMPLETED" and before.suites.get(suite["databaseId"]) != "COMPLETED":
            check_suite = _suite(suite, head, pr, pull_requests)
            sender = _app_bot(suite["app"])
            events.append(
                (
                    "check_suite",
                    _envelope(repo, sender, action="completed", check_suite=check_suite),
                )
            )
    status = head["status"]
    for context in status["contexts"] if status else []:
        if before.statuses.get(context["databaseId"]) != context["state"]:
            events.append(("status", _status(repo, pr, head, context)))
    return events


def _status(repo: Obj, pr: Obj, head: Obj, context: Obj) -> dict[str, Any]:
    """A commit status (no action field, as on GitHub); its creator is not modelled, so the
    PR's author posts it."""
    return _envelope(
        repo,
        _user(pr["author"]),
        id=context["databaseId"],
        sha=head["oid"],
        name=repo["nameWithOwner"],
        target_url=context["targetUrl"],
        context=context["context"],
        description=context["description"],
        state=context["state"].lower(),
        commit={"sha": head["oid"], "node_id": head["id"], "html_url": head["url"]},
        branches=[{"name": pr["headRefName"], "commit": {"sha": head["oid"]}}]
        if pr["state"] == "OPEN"
        else [],
        created_at=context["createdAt"],
        updated_at=context["createdAt"],
    )


# --- delivery ---------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One delivery as sent, kept so it can be redelivered byte for byte."""

    id: str
    event: str
    action: str | None
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    """The receiver's HTTP status at the last attempt; None: no answer (refused, timed out)."""

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "action": self.action, "status": self.status}


class Webhooks:
    """One organization webhook: where it delivers, with which secret, and what it sent."""

    def __init__(self, url: str | None, secret: str | None, timeout: float) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        digest = hashlib.sha1(f"hook:{url}".encode()).hexdigest()
        self.hook_id = int(digest[:7], 16)
        self.user_agent = f"GitHub-Hookshot/{digest[7:14]}"
        self.sent: dict[str, Delivery] = {}

    def prepare(self, events: list[Event], target_id: int) -> list[Delivery]:
        """Deliveries for `events` (none without a URL), signed and stored; not yet sent."""
        if self.url is None:
            return []
        prepared = []
        for event, payload in events:
            body = json.dumps(payload, separators=(",", ":")).encode()
            guid = str(uuid.uuid4())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": self.user_agent,
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": guid,
                "X-GitHub-Hook-ID": str(self.hook_id),
                "X-GitHub-Hook-Installation-Target-Type": "organization",
                "X-GitHub-Hook-Installation-Target-ID": str(target_id),
            }
            if self.secret is not None:  # GitHub signs only when the hook has a secret
                headers["X-Hub-Signature"] = (
                    "sha1=" + hmac.new(self.secret.encode(), body, hashlib.sha1).hexdigest()
                )
                headers["X-Hub-Signature-256"] = sign(self.secret, body)
            delivery = Delivery(guid, event, payload.get("action"), headers, body)
            self.sent[guid] = delivery
            prepared.append(delivery)
        return prepared

    async def send(self, deliveries: list[Delivery]) -> None:
        """POST each delivery in turn, once: a failure is recorded, never retried."""
        if not deliveries:
            return
        assert self.url is not None
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for delivery in deliveries:
                try:
                    async with session.post(
                        self.url, data=delivery.body, headers=delivery.headers
                    ) as answer:
                        delivery.status = answer.status
                except (aiohttp.ClientError, TimeoutError):
                    delivery.status = None
