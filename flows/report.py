"""What a sync tells the people watching it: progress per repository, a summary at the end."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)

from flows.events import PageLoaded, Spent, listener
from flows.runtime import current
from ghsync import COUNTED, RepoMeta, TokenStatus


@dataclass
class RepoOutcome:
    """One repository's result in a run."""

    repo: str
    state: str = "pending"
    """synced, unchanged, or failed."""
    pages: int = 0
    prs: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    """Child rows loaded, by table (those `ghsync.COUNTED` names)."""
    deferred_checks: int = 0
    ci_repolled: int = 0
    """Head commits whose CI was fetched again (not settled, or recent open PRs)."""
    ci_changed: int = 0
    """Of those, the PRs whose check runs or statuses had changed."""
    points: int = 0
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None

    def add(self, counts: dict[str, int]) -> None:
        """Add a loaded page's row counts (`prs`, and rows by table)."""
        for name, value in counts.items():
            if name == "prs":
                self.prs += value
            else:
                self.rows[name] += value

    def counted(self) -> str:
        """`3 reviews, 5 commits, ...`: the rows of each counted table."""
        return ", ".join(f"{self.rows[table]} {title}" for table, title in COUNTED)


def artifact_key(prefix: str, repo: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', repo.lower()).strip('-')}"


def spent() -> Spent:
    """The run's points and requests so far (the metadata check's too), and the tokens."""
    client = current().client
    points, requests = sum(client.points.values()), sum(client.requests.values())
    return Spent(points, requests, client.pool.statuses())


def tell_checked(metas: Mapping[str, RepoMeta | None]) -> None:
    """Tell the run's listener (if any) the repositories to sync and their PR counts."""
    if (heard := listener()) is not None:
        expected = {repo: meta.pr_count if meta else None for repo, meta in metas.items()}
        heard.checked(expected, spent())


def tell_finished(outcome: RepoOutcome) -> None:
    """Tell the run's listener (if any) that a repository is done."""
    if (heard := listener()) is not None:
        heard.finished(outcome, spent())


@dataclass
class Progress:
    """A repository's progress: its artifact, moved after every page, and the run's listener.

    Updates go out in the background, at most one at a time, the latest share winning: an API
    call per page on the sync's path waited out every stall of the Prefect server's database.
    """

    outcome: RepoOutcome
    """Its pages and rows so far."""
    expected: int
    artifact_id: object = None
    done: int = field(default=0)
    _sending: asyncio.Task[None] | None = None

    @property
    def repo(self) -> str:
        return self.outcome.repo

    async def start(self) -> None:
        self.artifact_id = await acreate_progress_artifact(
            progress=0.0,
            key=artifact_key("sync-progress", self.repo),
            description=f"{self.repo}: PRs loaded of ~{self.expected} expected",
        )

    async def advance(self, prs: int) -> None:
        self.done += prs
        if (heard := listener()) is not None:
            points = current().client.points[self.repo]
            page = PageLoaded(self.repo, self.outcome.pages, self.done, self.expected, points)
            heard.loaded(page, spent())
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send())

    async def finish(self) -> None:
        if self._sending is not None:
            await self._sending
        await self._update(100.0)

    async def _send(self) -> None:
        """Send the latest share until it stops changing."""
        sent = -1
        while sent != self.done:
            sent = self.done
            share = 100.0 if self.expected <= 0 else 100.0 * sent / self.expected
            await self._update(min(100.0, share))

    async def _update(self, share: float) -> None:
        await aupdate_progress_artifact(artifact_id=self.artifact_id, progress=share)  # type: ignore[arg-type]


def summary_markdown(outcomes: list[RepoOutcome], tokens: list[TokenStatus]) -> str:
    """The run's summary: one row per repository, then the tokens' remaining points (masked)."""
    lines = [
        "# ghsync run summary",
        "",
        "| repository | state | pages | PRs | "
        + "".join(f"{title} | " for _, title in COUNTED)
        + "points | requests | seconds | note |",
        "|---|---|---:|---:|" + "---:|" * len(COUNTED) + "---:|---:|---:|---|",
    ]
    for o in outcomes:
        notes = [f"{o.deferred_checks} check-run fetches deferred"] if o.deferred_checks else []
        if o.ci_repolled:
            notes.append(f"CI re-polled for {o.ci_repolled} commits, {o.ci_changed} changed")
        note = o.error or "; ".join(notes)
        lines.append(
            f"| {o.repo} | {o.state} | {o.pages} | {o.prs} | "
            + "".join(f"{o.rows[table]} | " for table, _ in COUNTED)
            + f"{o.points} | {o.requests} | {o.seconds:.1f} | {note} |"
        )
    lines += ["", "| token | account | remaining | state |", "|---|---|---:|---|"]
    for status in tokens:
        remaining = f"{status.remaining}/{status.limit}" if status.limit is not None else "?"
        lines.append(f"| {status.mask} | {status.login or '?'} | {remaining} | {status.state} |")
    return "\n".join(lines)


async def publish_summary(outcomes: list[RepoOutcome], tokens: list[TokenStatus]) -> None:
    """The summary artifact, shown on the flow run's Artifacts tab."""
    titles = [title for _, title in COUNTED]
    await acreate_markdown_artifact(
        markdown=summary_markdown(outcomes, tokens),
        key="ghsync-summary",
        description=f"PRs, {', '.join(titles[:-1])} and {titles[-1]} loaded per repository",
    )
