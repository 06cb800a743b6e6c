"""The emulator's object store: users, apps, orgs, repositories, and ids for `node(id:)`.

Objects are plain dicts keyed by GraphQL field names (with `__typename`), so the resolver can
serve them as they are; lists stand where the schema has connections.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from itertools import count
from typing import Any

from ghsync.emulator.ids import global_id

Obj = dict[str, Any]

HUMANS = [
    f"dev-{name}"
    for name in (
        "ada",
        "bob",
        "cyd",
        "dee",
        "eli",
        "fay",
        "gus",
        "hal",
        "ivy",
        "jon",
        "kim",
        "lou",
        "max",
        "ned",
        "oli",
        "pam",
        "quinn",
        "rae",
        "sam",
        "tia",
        "uma",
        "vic",
        "wes",
        "xan",
    )
]
BOTS = ["dependabot", "renovate", "github-actions", "copilot-swe-agent", "devin-ai-integration"]
APPS = [
    ("GitHub Actions", "github-actions"),
    ("CircleCI Checks", "circleci-checks"),
    ("Codecov", "codecov"),
]
CHECKS = {
    "github-actions": ["build", "test (3.11)", "test (3.12)", "lint"],
    "circleci-checks": ["ci/integration"],
    "codecov": ["codecov/patch"],
}
BASE_LABELS = [
    "bug",
    "feature",
    "docs",
    "chore",
    "security",
    "performance",
    "tests",
    "dependencies",
    "refactor",
    "breaking-change",
    "good first issue",
    "ui",
]
AI_TRAILERS = [
    "Co-authored-by: Claude <noreply@anthropic.com>",
    "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
    "Co-authored-by: Cursor Agent <cursoragent@cursor.com>",
    "Co-authored-by: aider (gpt-4o) <noreply@aider.chat>",
]
AI_BODY_MARKER = "🤖 Generated with [Claude Code](https://claude.com/claude-code)"
MODULES = ["api", "core", "db", "auth", "billing", "search", "ui", "jobs", "cli", "docs"]
VERBS = ["Fix", "Add", "Refactor", "Speed up", "Document", "Remove", "Rename", "Guard"]
HEAVY = {2: "reviews", 4: "commits", 6: "files", 8: "labels", 10: "checks", 12: "links"}


def iso(moment: datetime) -> str:
    """GitHub's DateTime rendering: whole seconds, UTC, `Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_epoch(epoch: float) -> str:
    """An epoch time in GitHub's DateTime rendering."""
    return iso(datetime.fromtimestamp(epoch, UTC))


class World:
    """Everything the emulator knows: users, orgs, repositories and their pull requests."""

    def __init__(self, anchor: datetime) -> None:
        self.anchor = anchor
        self.nodes: dict[str, Obj] = {}
        self.users: dict[str, Obj] = {}
        self.orgs: dict[str, Obj] = {}
        self.repos: dict[str, Obj] = {}
        self.apps: dict[str, Obj] = {}
        self.commits: dict[str, Obj] = {}
        # (repo id, filters, order) -> (repo version, items ascending, their keys)
        self.sorted_cache: dict[
            tuple[object, ...], tuple[int, list[Obj], list[tuple[Any, ...]]]
        ] = {}
        self._ids = count(1000)

    def register(self, typename: str, **values: Any) -> Obj:
        """Create an object with a fresh databaseId and global id, findable by `node(id:)`."""
        database_id = next(self._ids)
        obj: Obj = {
            "__typename": typename,
            "databaseId": database_id,
            "id": global_id(typename, database_id),
            **values,
        }
        self.nodes[obj["id"]] = obj
        return obj

    def find_repo(self, owner: str, name: str) -> Obj | None:
        """A repository by owner and name, case-insensitively as on GitHub."""
        return self.repos.get(f"{owner}/{name}".lower())

    def actor(self, login: str, *, bot: bool = False) -> Obj:
        """A User or Bot by login, created on first use (a Bot: a known bot, or `bot`)."""
        if login not in self.users:
            typename = "Bot" if bot or login in BOTS else "User"
            self.users[login] = self.register(
                typename,
                login=login,
                name=None if typename == "Bot" else login.title(),
                url=f"https://github.com/{login}",
                avatarUrl=f"https://avatars.example/{login}",
                resourcePath=f"/{login}",
                email=f"{login}@example.com",
            )
        return self.users[login]

    def app(self, slug: str) -> Obj:
        """A GitHub App (owner of check suites) by slug."""
        if slug not in self.apps:
            name = next(name for name, known in APPS if known == slug)
            self.apps[slug] = self.register("App", name=name, slug=slug)
        return self.apps[slug]


def commit_oid(*parts: object) -> str:
    """A stable 40-hex commit sha."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()
