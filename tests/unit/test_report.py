"""`ghsync report` on a hand-made warehouse, in a DuckDB file and in a DuckLake: the figures the
page shows are the views' answers; an empty warehouse and a repository without merged PRs
render; strings from the data are escaped.

The data is test_views_weekly's fortnight (acme/app; T0 Monday 2025-01-06 09:00 UTC, ISO week
2025-W02; `at(h)` is T0 + h hours), plus a check flaky on PR 2's head commit and a repository
acme/quiet with one open PR (a hostile title) and no merged PR. NOW is Friday of W03, the
report covers the 3 weeks W01-W03.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ghsync.cli import app
from ghsync.errors import ConfigError
from ghsync.lake import Location
from ghsync.report import (
    ALL_REPOSITORIES,
    Report,
    headline_markdown,
    load_report,
    render_html,
    select_repos,
    write_report,
)
from ghsync.state import SyncState
from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import REPO, T0, at, check_run, fortnight, page, pr

QUIET = "acme/quiet"
NOW = datetime(2025, 1, 17, 12, tzinfo=UTC)
W02 = date(2025, 1, 6)
HOSTILE = '<script>alert("x")</script> & more'


@pytest.fixture
def filled(location: Location) -> Location:
    with Warehouse.open(location) as warehouse:
        warehouse.upsert_page(
            fortnight(  # build failed on PR 2's head, then passed on a re-run: flaky
                check_run(2, 5, "build", "FAILURE", started_at=at(26), completed_at=at(26.1)),
                check_run(2, 6, "build", "SUCCESS", started_at=at(27), completed_at=at(27.1)),
            )
        )
        warehouse.upsert_page(
            page(
                [
                    pr(
                        1,
                        repo=QUIET,
                        pr_id="PR_quiet_1",
                        title=HOSTILE,
                        author_login="<img src=x>",
                        created_at=at(100),
                    )
                ]
            )
        )
        warehouse.write_sync_state(SyncState(REPO, at(230), at(230), "synced", outcome_at=at(231)))
    return location


@pytest.fixture
def report(filled: Location, tmp_path: Path) -> Report:
    return write_report(filled, tmp_path / "report.html", weeks=3, now=NOW)


def rows(location: Location, sql: str) -> list[tuple[object, ...]]:
    with Warehouse.open(location, read_only=True) as warehouse:
        return warehouse.query(sql).rows()


def test_the_weekly_figures_are_weekly_repo_metrics(filled: Location, report: Report) -> None:
    """For acme/app in W02 the page's PR and CI figures are the view's; p90 of first reviews
    (no view has it) is pr_metrics's over the PRs opened that week."""
    [view] = rows(
        filled,
        "SELECT prs_opened, prs_merged, median_cycle_time_hours, p90_cycle_time_hours, "
        f"median_first_review_hours, ci_failure_rate FROM weekly_repo_metrics "
        f"WHERE repo = '{REPO}' AND week = DATE '{W02}'",
    )
    [p90_review] = rows(
        filled,
        "SELECT quantile_cont(first_review_hours, 0.9) FROM pr_metrics "
        f"WHERE repo = '{REPO}' AND created_at >= TIMESTAMPTZ '{T0.date()}' "
        f"AND created_at < TIMESTAMPTZ '{T0.date()}' + INTERVAL 7 DAY",
    )
    weekly = report.scoped("weekly_prs", REPO).filter(week=W02)
    ci = report.scoped("weekly_ci", REPO).filter(week=W02)
    figures = ["prs_opened", "prs_merged", "p50_cycle_time_hours", "p90_cycle_time_hours"]
    shown = (
        *weekly.select(*figures, "p50_first_review_hours").row(0),
        ci["ci_failure_rate"].item(),
    )
    assert shown == view
    assert view == (4, 2, 15.0, 19.0, 2.0, 2 / 5)  # 2 failed of 5 completed runs
    assert weekly["p90_first_review_hours"].item() == p90_review[0] == pytest.approx(2.8)
    assert weekly["iso_week"].item() == "2025-W02"


def test_every_week_of_the_range_has_a_row_and_all_repositories_add_up(report: Report) -> None:
    every = report.scoped("weekly_prs", None)
    assert every["iso_week"].to_list() == report.iso_weeks == ["2025-W01", "2025-W02", "2025-W03"]
    # acme/quiet opened one PR in W02 and merged none: the merged figures are acme/app's
    assert every["prs_opened"].to_list() == [1, 5, 1]
    assert every["prs_merged"].to_list() == [0, 2, 2]
    app_rows = report.scoped("weekly_prs", REPO)
    assert every["p50_cycle_time_hours"].to_list() == app_rows["p50_cycle_time_hours"].to_list()
    quiet = report.scoped("weekly_prs", QUIET)
    assert quiet["prs_merged"].to_list() == [0, 0, 0]
    assert quiet["p50_cycle_time_hours"].to_list() == [None, None, None]


def test_the_flaky_checks_are_ci_check_stats(filled: Location, report: Report) -> None:
    view = rows(
        filled,
        "SELECT repo, app, name, flaky_count, runs, failure_rate FROM ci_check_stats "
        "WHERE flaky_count > 0",
    )
    assert (
        report.frames["flaky_checks"].rows()
        == view
        == [(REPO, "GitHub Actions", "build", 1, 2, 0.5)]
    )


def test_review_load_waiting_prs_and_ai_share_are_the_views(
    filled: Location, report: Report
) -> None:
    loads = rows(
        filled,
        "SELECT author_login, count(*) FROM peer_reviews GROUP BY ALL ORDER BY 2 DESC, 1",
    )
    shown = report.scoped("review_load", None).select("reviewer", "reviews").rows()
    assert shown == loads == [("bob", 2), ("carol", 1)]
    waiting = report.frames["waiting_for_review"].select("repo", "number").rows()
    assert waiting == [(REPO, 6), (REPO, 3), (QUIET, 1)]
    ai = report.scoped("ai_share", REPO).select("iso_week", "tool", "ai_prs", "merged_prs", "share")
    assert ai.rows() == [("2025-W02", "Claude", 1, 2, 0.5)]  # PR 1 of PRs 1 and 2 merged in W02


def test_the_headlines(report: Report) -> None:
    """Over the 7 days before NOW: PRs 4 and 5 merged (2 h and 40 h: median 21), PR 5 opened
    and reviewed in 5 h (PR 4 never), no check run completed; PRs 3, 6 and quiet's 1 wait."""
    headlines = report.frames["headlines"].rows()
    assert headlines == [
        (None, 2, 21.0, 5.0, None, 3),
        (REPO, 2, 21.0, 5.0, None, 2),
        (QUIET, 0, None, None, None, 1),
    ]
    markdown = headline_markdown(report)
    assert f"| {ALL_REPOSITORIES} | 2 | 21.0 h | 5.0 h | – | 3 |" in markdown
    assert f"| {QUIET} | 0 | – | – | – | 1 |" in markdown


def test_the_page_escapes_the_data_and_shows_every_section(report: Report) -> None:
    page_html = render_html(report)
    assert HOSTILE not in page_html and "<img src=x>" not in page_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page_html
    assert "&lt;img src=x&gt;" in page_html
    assert re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', page_html) == [
        ("all", ALL_REPOSITORIES),
        ("repo-1", REPO),
        ("repo-2", QUIET),
    ]
    assert "Generated at 2025-01-17 12:00 UTC" in page_html
    # self-contained: no script, stylesheet, font or image to fetch; URLs only SVG's namespaces
    assert not re.search(r"<script|<link|<img|@font-face|@import|url\(", page_html)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page_html))
    assert urls == {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for chart in ("PRs opened and merged per week", "Cycle time", "Review load", "CI: failed"):
        assert chart in section(page_html, REPO)


def test_a_repository_without_merged_prs_renders_empty_states(report: Report) -> None:
    quiet = section(render_html(report), QUIET)
    assert "No PR merged in these weeks: no cycle time." in quiet
    assert "No peer review submitted in these weeks." in quiet
    assert "No check run completed in these weeks." in quiet
    assert "No merged PR of these weeks shows AI assistance." in quiet
    assert quiet.count("<svg") == 1  # PRs opened per week: one opened in W02


def test_an_empty_warehouse_renders(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    Warehouse.open(empty).close()
    out = tmp_path / "report.html"
    report = write_report(empty, out, now=NOW)
    page_html = out.read_text()
    assert report.repos == ()
    assert "<svg" not in page_html
    assert "No PR opened or merged in these weeks." in page_html
    assert "No repository in this warehouse." in page_html
    assert report.frames["headlines"].rows() == [(None, 0, None, None, None, 0)]
    assert len(report.scoped("weekly_prs", None)) == 12


def test_repositories_are_chosen_by_name_or_org() -> None:
    known = ["acme/app", "acme/quiet", "octo/api"]
    assert select_repos(known, [], []) == known
    assert select_repos(known, ["octo/api"], ["ACME"]) == known
    assert select_repos(known, [], ["octo"]) == ["octo/api"]
    with pytest.raises(ConfigError, match="no repository octo/nope"):
        select_repos(known, ["octo/nope"], [])
    with pytest.raises(ConfigError, match="no repository of nobody"):
        select_repos(known, [], ["nobody"])


def test_a_repository_filter_keeps_the_other_out(filled: Location) -> None:
    with Warehouse.open(filled, read_only=True) as warehouse:
        report = load_report(warehouse, repos=[QUIET], weeks=3, now=NOW)
    assert report.repos == (QUIET,)
    assert report.scoped("weekly_prs", None)["prs_opened"].to_list() == [0, 1, 0]
    assert report.frames["flaky_checks"].is_empty()


def test_the_cli_writes_the_page_and_refuses_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    out = tmp_path / "out.html"
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out), "--weeks", "4"])
    assert (result.exit_code, result.output) == (0, f"wrote {out}\n")
    assert out.read_text().startswith("<!DOCTYPE html>")
    for args in (["--repo", "acme/nope"], ["--org", "nobody"], ["--weeks", "0"]):
        assert runner.invoke(app, ["report", "--db", str(db), *args]).exit_code == 2
    missing = runner.invoke(app, ["report", "--db", str(tmp_path / "no" / "w.duckdb")])
    assert missing.exit_code == 2
    assert "error: warehouse" in missing.output


def section(page_html: str, repo: str) -> str:
    """The page's section of `repo`."""
    [found] = [part for part in page_html.split("<section ")[1:] if f"<h2>{repo}</h2>" in part]
    return found
