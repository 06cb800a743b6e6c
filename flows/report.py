"""What a sync tells the people watching it: progress per repository (an artifact, and the run's
listener), the summary artifact at the end (its table: `ghsync.outcome`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)

from flows.runtime import current
from ghsync import (
    PageLoaded,
    RepoMeta,
    RepoOutcome,
    Spent,
    TokenStatus,
    listener,
    summary_description,
    summary_markdown,
)


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
    artifact_id: UUID
    done: int = field(default=0)
    _sending: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, outcome: RepoOutcome, expected: int) -> Progress:
        """The progress of a repository expecting `expected` PRs, its artifact created."""
        artifact_id = await acreate_progress_artifact(
            progress=0.0,
            key=artifact_key("sync-progress", outcome.repo),
            description=f"{outcome.repo}: PRs loaded of ~{expected} expected",
        )
        return cls(outcome, expected, artifact_id)

    @property
    def repo(self) -> str:
        return self.outcome.repo

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
        await aupdate_progress_artifact(artifact_id=self.artifact_id, progress=share)


async def publish_summary(outcomes: list[RepoOutcome], tokens: list[TokenStatus]) -> None:
    """The summary artifact, shown on the flow run's Artifacts tab."""
    await acreate_markdown_artifact(
        markdown=summary_markdown(outcomes, tokens),
        key="ghsync-summary",
        description=summary_description(),
    )
