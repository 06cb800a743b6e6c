"""A repository's outcome in a run, and how a run tells its outcomes: the summary table (the
flow run's artifact) and the lines `ghsync sync` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ghsync.github.tokens import TokenStatus
from ghsync.state import RepoStatus
from ghsync.tables import COUNTED


@dataclass
class RepoOutcome:
    """One repository's result in a run."""

    repo: str
    state: RepoStatus = RepoStatus.RUNNING
    """synced, unchanged, or failed (running until it ends)."""
    pages: int = 0
    prs: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    """Child rows loaded, by table (those `ghsync.tables.COUNTED` names)."""
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

    def failed(self, error: str) -> None:
        self.state, self.error = RepoStatus.FAILED, error


def repositories(count: int) -> str:
    """`1 repository`, `3 repositories`."""
    return f"{count} repositor{'y' if count == 1 else 'ies'}"


def summary_markdown(outcomes: Sequence[RepoOutcome], tokens: Sequence[TokenStatus]) -> str:
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


def summary_description() -> str:
    """What the summary holds, in a line: `PRs, reviews, ... and check runs loaded per ...`."""
    titles = [title for _, title in COUNTED]
    return f"PRs, {', '.join(titles[:-1])} and {titles[-1]} loaded per repository"


def outcome_line(o: RepoOutcome) -> str:
    """`acme/app: synced, 120 PRs, ...; 14 points in 9 requests, 2.1 s`, or why it failed."""
    if o.state == RepoStatus.FAILED:
        reason = (o.error or "").removeprefix(f"{o.repo} ")  # the errors name their target
        return f"{o.repo}: failed: {reason}"
    ci = f"; CI re-polled for {o.ci_repolled} commits, {o.ci_changed} changed"
    return (
        f"{o.repo}: {o.state}, {o.prs} PRs, {o.counted()}; {o.points} points in "
        f"{o.requests} requests, {o.seconds:.1f} s{ci if o.ci_repolled else ''}"
    )


def total_line(outcomes: Sequence[RepoOutcome], points: int, requests: int, seconds: float) -> str:
    """`total: 4 repositories (3 synced, 1 failed), 300 PRs, 4,211 rows, 59 points in 32
    requests, 21.4 s` (points and requests of the whole run, its metadata checks too)."""
    states: dict[str, int] = {}
    for o in outcomes:
        states[o.state] = states.get(o.state, 0) + 1
    kinds = ", ".join(f"{count} {state}" for state, count in states.items())
    rows = sum(o.prs + o.rows.total() for o in outcomes)
    return (
        f"total: {repositories(len(outcomes))} ({kinds or 'none'}), "
        f"{sum(o.prs for o in outcomes):,} PRs, {rows:,} rows, {points:,} points in "
        f"{requests:,} requests, {seconds:.1f} s"
    )
