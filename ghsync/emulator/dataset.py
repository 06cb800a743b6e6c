"""The seeded generator of the emulator's dataset: an org, its repositories and their PRs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ghsync.emulator.config import EmulatorConfig
from ghsync.emulator.history import fill_pull_request, next_number
from ghsync.emulator.world import (
    AI_BODY_MARKER,
    AI_TRAILERS,
    BASE_LABELS,
    BOTS,
    HEAVY,
    HUMANS,
    MODULES,
    VERBS,
    Obj,
    World,
    iso,
)


def build_world(config: EmulatorConfig) -> World:
    """Generate the dataset for `config`: the same seed gives the same data."""
    world = World(config.anchor())
    for login in config.accounts().values():
        world.actor(login)
    org = world.register(
        "Organization",
        login=config.org,
        name=config.org.title(),
        url=f"https://github.com/{config.org}",
        repositories=[],
        teams=[],
    )
    world.orgs[config.org.lower()] = org
    for slug in ("backend", "frontend", "platform"):
        team = world.register(
            "Team",
            slug=slug,
            name=slug.title(),
            organization=org,
            combinedSlug=f"{config.org}/{slug}",
        )
        org["teams"].append(team)
    empty_org = world.register(
        "Organization", login=f"{config.org}-empty", name="Empty", url="", repositories=[], teams=[]
    )
    world.orgs[empty_org["login"].lower()] = empty_org
    plans = [(f"repo-{i}", config.prs, False) for i in range(1, config.repos + 1)]
    plans += [("empty", 0, False), ("archived", min(config.prs, 5), True)]
    for name, prs, archived in plans:
        rng = random.Random(f"{config.seed}:{config.org}/{name}")
        repo = add_repository(world, org, name, archived=archived, rng=rng)
        for _ in range(prs):
            add_pull_request(world, repo, rng, heavy=config.heavy_prs and config.prs >= 12)
        spread_created(world, repo, rng)
    return world


def add_repository(world: World, org: Obj, name: str, *, archived: bool, rng: random.Random) -> Obj:
    """A repository with its label set, milestones and issues (targets of closing references)."""
    full = f"{org['login']}/{name}"
    created = world.anchor - timedelta(days=400)
    repo = world.register(
        "Repository",
        name=name,
        nameWithOwner=full,
        owner=org,
        isArchived=archived,
        isFork=False,
        isPrivate=False,
        visibility="PUBLIC",
        createdAt=iso(created),
        updatedAt=iso(world.anchor),
        pushedAt=iso(created),
        url=f"https://github.com/{full}",
        pullRequests=[],
        labels=[],
        milestones=[],
        issues=[],
        _next_number=1,
        _version=0,
    )
    label_names = BASE_LABELS + [f"area/{i:03d}" for i in range(110)]
    repo["labels"] = [
        world.register("Label", name=label, color=f"{rng.randrange(1 << 24):06x}", description=None)
        for label in label_names
    ]
    for number, title in enumerate(["v1.0", "v1.1", "v2.0"], start=1):
        repo["milestones"].append(
            world.register(
                "Milestone",
                number=number,
                title=title,
                state="OPEN",
                dueOn=None,
                url=f"{repo['url']}/milestone/{number}",
            )
        )
    org["repositories"].append(repo)
    world.repos[full.lower()] = repo
    return repo


def add_pull_request(world: World, repo: Obj, rng: random.Random, *, heavy: bool) -> Obj:
    """A pull request with every nested list; `spread_created` sets its timeline later."""
    number = next_number(repo)
    roll = rng.random()
    author = rng.choice(BOTS[:1] + BOTS[3:]) if roll < 0.12 else rng.choice(HUMANS)
    module = rng.choice(MODULES)
    title = f"{rng.choice(VERBS)} {module} {rng.choice(['handling', 'tests', 'config', 'docs'])}"
    body = f"This changes {module}."
    ai = rng.random()
    if ai < 0.06:
        body += f"\n\n{AI_BODY_MARKER}"
    pr = world.register(
        "PullRequest",
        number=number,
        title=title,
        body=body,
        isDraft=False,
        state="OPEN",
        merged=False,
        author=world.actor(author),
        baseRefName="main",
        headRefName=f"{author}/{module}-{number}",
        repository=repo,
        url=f"{repo['url']}/pull/{number}",
        milestone=None,
        mergedBy=None,
        labels=[],
        assignees=[],
        closingIssuesReferences=[],
        reviewRequests=[],
        reviews=[],
        commits=[],
        files=[],
        locked=False,
    )
    pr["fullDatabaseId"] = str(pr["databaseId"])
    kind = HEAVY.get(number) if heavy else None
    pr["_plan"] = {
        "state": rng.choices(["MERGED", "CLOSED", "OPEN"], [0.62, 0.13, 0.25])[0],
        "draft": rng.random() < 0.1,
        "reviews": 130 if kind == "reviews" else rng.choice([0, 1, 1, 2, 2, 3, 4]),
        "commits": 120 if kind == "commits" else rng.randint(1, 6),
        "files": 260 if kind == "files" else rng.randint(1, 12),
        "labels": 105 if kind == "labels" else rng.choice([0, 1, 1, 2, 3]),
        "checks": 150 if kind == "checks" else -1,
        "links": 15 if kind == "links" else rng.choice([0, 0, 1, 1, 2]),
        "requests": 14 if kind == "links" else rng.choice([0, 0, 1, 2]),
        "ai_trailer": rng.choice(AI_TRAILERS) if ai < 0.15 else None,
        "statuses": rng.random() < 0.25,
    }
    repo["pullRequests"].append(pr)
    return pr


def spread_created(world: World, repo: Obj, rng: random.Random) -> None:
    """Give the repository's new PRs creation times in number order, then fill them in."""
    pending = [pr for pr in repo["pullRequests"] if "_plan" in pr]
    if not pending:
        return
    anchor = datetime.fromisoformat(repo["updatedAt"].replace("Z", "+00:00"))
    offsets = sorted((rng.uniform(0.05, 180.0) for _ in pending), reverse=True)
    for pr, days in zip(pending, offsets, strict=True):
        fill_pull_request(world, pr, anchor - timedelta(days=days), anchor, rng)
    repo["pushedAt"] = max(pr["updatedAt"] for pr in repo["pullRequests"])
    repo["_version"] += 1
