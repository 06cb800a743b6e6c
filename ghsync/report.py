"""`ghsync report`: one self-contained HTML page of the team's trends, from the warehouse.

Every figure is a query of `warehouse/report/*.sql` over the warehouse's views, its parameters
bound (`$repos`, `$since`, `$now`); this module only picks the repositories, reshapes the
answers for the charts and writes the page. The charts (ghsync/charts.py) are inline SVG, so
the page opens offline.

    report = load_report(warehouse, repos=[], orgs=["acme"], weeks=12, now=now)
    html = render_html(report)            # or: write_report(location, out, ...) for both
    headline_markdown(report)             # the headline figures, for a Prefect artifact
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from ghsync.errors import ConfigError
from ghsync.lake import Location
from ghsync.sql_files import read_report_query
from ghsync.warehouse import Warehouse
from ghsync.writer import reading

ALL_REPOSITORIES = "all repositories"
DEFAULT_WEEKS = 12
TOP_REVIEWERS = 15
"""The busiest reviewers a review-load chart shows."""

_LISTS = ("flaky_checks", "waiting_for_review", "freshness")
"""The queries that list rows of each repository and have no rows of all of them together."""
_SECTIONS = (
    "weekly_prs",
    "weekly_ci",
    "flaky_checks",
    "review_load",
    "waiting_for_review",
    "ai_share",
    "freshness",
    "headlines",
)


@dataclass(frozen=True)
class Report:
    """What the page shows: the answer of each query of `warehouse/report/` (`frames`, by file
    name), for `repos` over the ISO weeks from `since` (a Monday, 00:00 UTC) to `now`.

    Rows with `repo` null are the figures of all `repos` together."""

    repos: tuple[str, ...]
    weeks: int
    since: datetime
    now: datetime
    frames: dict[str, pl.DataFrame]

    @property
    def iso_weeks(self) -> list[str]:
        """The report's weeks, `2026-W49` ..., oldest first."""
        return [(self.since + timedelta(weeks=i)).strftime("%G-W%V") for i in range(self.weeks)]

    def scoped(self, section: str, repo: str | None) -> pl.DataFrame:
        """The rows of `section` for one repository, or (None) for all of them together."""
        frame = self.frames[section]
        if section in _LISTS:
            return frame if repo is None else frame.filter(pl.col("repo") == repo)
        column = pl.col("repo")
        return frame.filter(column.is_null() if repo is None else column == repo)


def select_repos(known: Sequence[str], repos: Sequence[str], orgs: Sequence[str]) -> list[str]:
    """The repositories of `known` named by `repos` or owned by one of `orgs` (all of them when
    neither is given). ConfigError for a repository or an org the warehouse does not know."""
    unknown = [repo for repo in repos if repo not in known]
    if unknown:
        raise ConfigError(f"the warehouse holds no repository {', '.join(unknown)}")
    owners = {repo.split("/")[0].lower() for repo in known}
    missing = [org for org in orgs if org.lower() not in owners]
    if missing:
        raise ConfigError(f"the warehouse holds no repository of {', '.join(missing)}")
    if not repos and not orgs:
        return list(known)
    wanted = {org.lower() for org in orgs}
    return [r for r in known if r in repos or r.split("/")[0].lower() in wanted]


def first_week(now: datetime, weeks: int) -> datetime:
    """Monday 00:00 UTC of the first of the `weeks` ISO weeks ending with the week of `now`."""
    utc = now.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=utc.weekday(), weeks=weeks - 1)


def load_report(
    warehouse: Warehouse,
    *,
    repos: Sequence[str] = (),
    orgs: Sequence[str] = (),
    weeks: int = DEFAULT_WEEKS,
    now: datetime,
) -> Report:
    """Run the report's queries for the chosen repositories (see `select_repos`) over the
    `weeks` ISO weeks ending with the week of `now` (timezone-aware)."""
    if weeks < 1:
        raise ConfigError(f"--weeks must be 1 or more, not {weeks}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")  # a naive one would be read as UTC
    known = warehouse.query(read_report_query("repositories"))["repo"].to_list()
    chosen = select_repos(known, repos, orgs)
    since = first_week(now, weeks)
    parameters: dict[str, object] = {"repos": chosen, "since": since, "now": now}
    frames = {name: _run(warehouse, name, parameters) for name in _SECTIONS}
    return Report(tuple(chosen), weeks, since, now, frames)


def _run(warehouse: Warehouse, name: str, parameters: dict[str, object]) -> pl.DataFrame:
    """One report query, given the parameters its code names (DuckDB refuses any other)."""
    sql = read_report_query(name)
    named = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", sql)))
    return warehouse.query(sql, {key: parameters[key] for key in named})


def write_report(
    location: Location,
    out: Path,
    *,
    repos: Sequence[str] = (),
    orgs: Sequence[str] = (),
    weeks: int = DEFAULT_WEEKS,
    now: datetime,
    on_wait: Callable[[], None] = lambda: None,
) -> Report:
    """Write the report of the warehouse at `location` to `out` and return what it shows (for
    `headline_markdown`). The warehouse is opened read-only, after a sync writing it hands it
    back (`on_wait` is called once before waiting). ConfigError for bad input, WarehouseError
    when the warehouse fails."""
    with reading(location, on_wait) as warehouse:
        report = load_report(warehouse, repos=repos, orgs=orgs, weeks=weeks, now=now)
    out.write_text(render_html(report), encoding="utf-8")
    return report


# --- formatting ----------------------------------------------------------------------------


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} h"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _when(value: datetime | None) -> str:
    return "never" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _scope_name(repo: str | None) -> str:
    return ALL_REPOSITORIES if repo is None else repo


# --- headlines -----------------------------------------------------------------------------

Column = tuple[str, str, Callable[[Any], str]]
"""A column of a table shown: its header, the frame's column, how a value is written."""

_HEADLINES: list[Column] = [
    ("merged (last 7 days)", "prs_merged", str),
    ("median cycle time", "p50_cycle_time_hours", _hours),
    ("median time to first review", "p50_first_review_hours", _hours),
    ("CI failure rate", "ci_failure_rate", _percent),
    ("open PRs waiting for a first review", "open_prs_waiting", str),
]


def headline_markdown(report: Report) -> str:
    """The headline figures per repository and for all together, as a markdown table: PRs
    merged in the 7 days before `now`, the median cycle time of those, the median time to
    first review of the PRs opened then, the failed share of the check runs completed then,
    and the open PRs waiting for a first review."""
    header = ["repository", *(title for title, _, _ in _HEADLINES)]
    lines = [_markdown_row(header), _markdown_row(["---"] * len(header))]
    for row in report.frames["headlines"].iter_rows(named=True):
        cells = [_scope_name(row["repo"]), *(fmt(row[col]) for _, col, fmt in _HEADLINES)]
        lines.append(_markdown_row(cells))
    generated = (
        f"Generated {_when(report.now)}; the {report.weeks} weeks from {_when(report.since)}."
    )
    return "\n".join([f"# ghsync report\n\n{generated}\n", *lines]) + "\n"


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _empty(message: str) -> str:
    return f'<p class="empty">{html.escape(message)}</p>'


def _columns(frame: pl.DataFrame, series: dict[str, str]) -> pl.DataFrame:
    """The columns `series` (column -> legend label) of a weekly frame, as (iso_week, series,
    value) rows for `charts.weekly_chart`."""
    long = frame.unpivot(on=list(series), index="iso_week", variable_name="series")
    return long.with_columns(pl.col("series").replace_strict(series))


# --- tables --------------------------------------------------------------------------------


def _table(frame: pl.DataFrame, columns: Sequence[Column], *, empty: str) -> str:
    """An HTML table of `frame`'s `columns` (header, column, formatter), every cell escaped."""
    if frame.is_empty():
        return _empty(empty)
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _, _ in columns)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(fmt(row[col]))}</td>" for _, col, fmt in columns)
        + "</tr>"
        for row in frame.iter_rows(named=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _text(value: object) -> str:
    return "–" if value is None else str(value)


_WAITING: list[Column] = [
    ("repository", "repo", _text),
    ("PR", "number", lambda n: f"#{n}"),
    ("title", "title", _text),
    ("author", "author_login", _text),
    ("opened", "created_at", _when),
    ("waiting", "hours_waiting", _hours),
]
_FLAKY: list[Column] = [
    ("repository", "repo", _text),
    ("app", "app", _text),
    ("check", "name", _text),
    ("flaky head commits", "flaky_commits", str),
    ("runs", "runs", str),
    ("failure rate", "failure_rate", _percent),
]
_FRESHNESS: list[Column] = [
    ("repository", "repo", _text),
    ("last sync", "last_synced_at", _when),
    ("last outcome", "status", _text),
    ("outcome at", "outcome_at", _when),
    ("head commits whose CI is still to fetch", "ci_to_fetch", str),
    ("open PRs with CI not settled", "open_prs_ci_pending", str),
]


# --- the page ------------------------------------------------------------------------------

_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
.generated, .empty { color: #555; }
.empty { font-style: italic; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
svg { max-width: 100%; height: auto; }
@media print { section { break-before: page; } nav { display: none; } body { margin: 0; } }
"""


def render_html(report: Report) -> str:
    """The page: title, generated-at line, data freshness, contents, then a section for all
    repositories together and one per repository."""
    scopes: list[str | None] = [None, *report.repos]
    anchors = {scope: f"repo-{i}" if scope else "all" for i, scope in enumerate(scopes)}
    contents = "".join(
        f'<li><a href="#{anchors[s]}">{html.escape(_scope_name(s))}</a></li>' for s in scopes
    )
    last = report.since + timedelta(weeks=report.weeks - 1)
    generated = (
        f"Generated at {_when(report.now)}, over the {report.weeks} ISO weeks "
        f"{report.since:%G-W%V} to {last:%G-W%V} (weeks start Monday 00:00 UTC)."
    )
    freshness = _table(
        report.frames["freshness"], _FRESHNESS, empty="No repository in this warehouse."
    )
    sections = "".join(_section(report, scope, anchors[scope]) for scope in scopes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>ghsync report</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>Pull requests: the team's trends</h1>"
        f'<p class="generated">{html.escape(generated)}</p>'
        f"<h3>Data freshness</h3>{freshness}"
        f"<nav><h3>Contents</h3><ul>{contents}</ul></nav>"
        f"{sections}</body></html>\n"
    )


def _section(report: Report, scope: str | None, anchor: str) -> str:
    from ghsync import charts  # altair takes 0.4 s to import: only when a page is drawn

    weekly = report.scoped("weekly_prs", scope)
    reviewers = report.scoped("review_load", scope).head(TOP_REVIEWERS)
    ci = report.scoped("weekly_ci", scope)
    ai = report.scoped("ai_share", scope).select("iso_week", series="tool", value="share")
    parts = [
        f'<section id="{anchor}"><h2>{html.escape(_scope_name(scope))}</h2>',
        "<h3>Headlines</h3>",
        _table(report.scoped("headlines", scope), _HEADLINES, empty="No figures."),
        _chart_or_empty(
            charts.weekly_chart(
                _columns(weekly, {"prs_opened": "opened", "prs_merged": "merged"}),
                report.iso_weeks,
                title="PRs opened and merged per week",
                unit="PRs",
                mark="bar",
            ),
            "No PR opened or merged in these weeks.",
        ),
        _chart_or_empty(
            charts.weekly_chart(
                _columns(weekly, {"p50_cycle_time_hours": "p50", "p90_cycle_time_hours": "p90"}),
                report.iso_weeks,
                title="Cycle time (created -> merged) of the PRs merged each week",
                unit="hours",
                mark="line",
            ),
            "No PR merged in these weeks: no cycle time.",
        ),
        _chart_or_empty(
            charts.weekly_chart(
                _columns(
                    weekly, {"p50_first_review_hours": "p50", "p90_first_review_hours": "p90"}
                ),
                report.iso_weeks,
                title="Time to first peer review of the PRs opened each week",
                unit="hours",
                mark="line",
            ),
            "No PR opened in these weeks got a peer review.",
        ),
        "<h3>Open PRs waiting for a first review</h3>",
        _table(
            report.scoped("waiting_for_review", scope),
            _WAITING,
            empty="No open PR is waiting for a first review.",
        ),
        _chart_or_empty(
            None
            if reviewers.is_empty()
            else charts.ranking_chart(
                reviewers,
                "reviewer",
                "reviews",
                title=f"Review load: peer reviews submitted per reviewer (top {TOP_REVIEWERS})",
                unit="reviews",
            ),
            "No peer review submitted in these weeks.",
        ),
        _chart_or_empty(
            charts.weekly_chart(
                _columns(ci, {"ci_failure_rate": "failed"}),
                report.iso_weeks,
                title="CI: failed share of the completed check runs per week",
                unit="% of completed check runs",
                mark="line",
                percent=True,
            ),
            "No check run completed in these weeks.",
        ),
        "<h3>Flakiest checks (failed and passed on the same head commit)</h3>",
        _table(
            report.scoped("flaky_checks", scope),
            _FLAKY,
            empty="No check both failed and passed on one head commit in these weeks.",
        ),
        _chart_or_empty(
            charts.weekly_chart(
                ai,
                report.iso_weeks,
                title="AI-assisted share of the PRs merged each week, by tool",
                unit="% of merged PRs",
                mark="bar",
                percent=True,
            ),
            "No merged PR of these weeks shows AI assistance.",
        ),
        "</section>",
    ]
    return "".join(parts)


def _chart_or_empty(svg: str | None, message: str) -> str:
    return f'<figure class="chart">{svg}</figure>' if svg is not None else _empty(message)
