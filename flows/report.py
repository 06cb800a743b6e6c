"""What a sync tells the people watching it: progress per repository, a summary at the end."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    aupdate_progress_artifact,
)

from ghsync import TokenStatus


@dataclass
class RepoOutcome:
    """One repository's result in a run."""

    repo: str
    state: str = "pending"
    """synced, unchanged, or failed."""
    pages: int = 0
    prs: int = 0
    reviews: int = 0
    commits: int = 0
    files: int = 0
    check_runs: int = 0
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
        """Add a loaded page's row counts."""
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)


def artifact_key(prefix: str, repo: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return f"{prefix}-{re.sub(r'[^a-z0-9]+', '-', repo.lower()).strip('-')}"


@dataclass
class Progress:
    """A repository's progress artifact, moved after every page.

    Updates go out in the background, at most one at a time, the latest share winning: an API
    call per page on the sync's path waited out every stall of the Prefect server's database.
    """

    repo: str
    expected: int
    artifact_id: object = None
    done: int = field(default=0)
    _sending: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.artifact_id = await acreate_progress_artifact(
            progress=0.0,
            key=artifact_key("sync-progress", self.repo),
            description=f"{self.repo}: PRs loaded of ~{self.expected} expected",
        )

    async def advance(self, prs: int) -> None:
        self.done += prs
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
        "| repository | state | pages | PRs | reviews | commits | files | check runs | points "
        "| requests | seconds | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        notes = [f"{o.deferred_checks} check-run fetches deferred"] if o.deferred_checks else []
        if o.ci_repolled:
            notes.append(f"CI re-polled for {o.ci_repolled} commits, {o.ci_changed} changed")
        note = o.error or "; ".join(notes)
        lines.append(
            f"| {o.repo} | {o.state} | {o.pages} | {o.prs} | {o.reviews} | {o.commits} "
            f"| {o.files} | {o.check_runs} | {o.points} | {o.requests} | {o.seconds:.1f} "
            f"| {note} |"
        )
    lines += ["", "| token | account | remaining | state |", "|---|---|---:|---|"]
    for status in tokens:
        remaining = f"{status.remaining}/{status.limit}" if status.limit is not None else "?"
        lines.append(f"| {status.mask} | {status.login or '?'} | {remaining} | {status.state} |")
    return "\n".join(lines)


async def publish_summary(outcomes: list[RepoOutcome], tokens: list[TokenStatus]) -> None:
    """The summary artifact, shown on the flow run's Artifacts tab."""
    await acreate_markdown_artifact(
        markdown=summary_markdown(outcomes, tokens),
        key="ghsync-summary",
        description="PRs, reviews, commits, files and check runs loaded per repository",
    )
