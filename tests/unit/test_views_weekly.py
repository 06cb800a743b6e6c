"""weekly_repo_metrics and weekly_author_metrics on a hand-made fortnight (and a year end).

T0 is Monday 2025-01-06 09:00 UTC, ISO week 2025-W02; `at(h)` is T0 + h hours.
    PR  author  opened               merged            cycle  first peer review
    1   alice   Mon W02 (at 0)       at 10 (W02)       10 h   bob at 1 -> 1 h (alice's own ignored)
    2   alice   Tue W02 (at 25)      at 45 (W02)       20 h   bob at 28 -> 3 h
    3   bob     Wed W02 (at 48)      open              -      -
    4   alice   Sun W02 23:00 (158)  Mon W03 01:00     2 h    -
    5   bob     Tue W03 (at 192)     at 232 (W03)      40 h   carol at 197 -> 5 h
    6   dave    2024-12-31 (W01)     open              -      -
PR 1 carries an AI marker. Check runs in W02: PR 1 failed, PR 2 passed twice, PR 3 running.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ghsync.warehouse import Warehouse
from tests.unit.warehouse_rows import T0, fortnight


@pytest.fixture(params=["UTC", "Asia/Tokyo"], ids=["session-utc", "session-tokyo"])
def warehouse(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Warehouse]:
    """The fortnight loaded; weeks must not depend on the session's time zone."""
    warehouse = Warehouse.open(tmp_path / "w.duckdb")
    warehouse.upsert_page(fortnight())
    warehouse.query(f"SET TimeZone = '{request.param}'")
    yield warehouse
    warehouse.close()


def test_weekly_repo_metrics(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "SELECT repo, week, iso_week, prs_opened, prs_merged, "
        "round(median_cycle_time_hours, 6), round(p90_cycle_time_hours, 6), "
        "round(median_first_review_hours, 6), round(ci_failure_rate, 6), ai_assisted_share "
        "FROM weekly_repo_metrics ORDER BY week"
    ).rows()
    assert rows == [
        ("acme/app", date(2024, 12, 30), "2025-W01", 1, 0, None, None, None, None, 0.0),
        # merged 10 h and 20 h: median 15, p90 10 + 0.9 * 10 = 19; reviews 1 h and 3 h: 2;
        # 1 failed of 3 completed runs; 1 of 4 opened PRs with AI evidence
        ("acme/app", date(2025, 1, 6), "2025-W02", 4, 2, 15.0, 19.0, 2.0, round(1 / 3, 6), 0.25),
        # merged 2 h and 40 h: median 21, p90 2 + 0.9 * 38 = 36.2
        ("acme/app", date(2025, 1, 13), "2025-W03", 1, 2, 21.0, 36.2, 5.0, None, 0.0),
    ]


def test_weekly_author_metrics(warehouse: Warehouse) -> None:
    rows = warehouse.query(
        "SELECT author_login, week, prs_opened, prs_merged, reviews_given, "
        "median_cycle_time_hours FROM weekly_author_metrics ORDER BY author_login, week"
    ).rows()
    assert rows == [
        ("alice", date(2025, 1, 6), 3, 2, 0, 15.0),  # her own comment is no review given
        ("alice", date(2025, 1, 13), 0, 1, 0, 2.0),
        ("bob", date(2025, 1, 6), 1, 0, 2, None),
        ("bob", date(2025, 1, 13), 1, 1, 0, 40.0),
        ("carol", date(2025, 1, 13), 0, 0, 1, None),
        ("dave", date(2024, 12, 30), 1, 0, 0, None),
    ]


def test_t0_is_the_monday_the_table_above_assumes() -> None:
    assert (T0.isoweekday(), T0.isocalendar().week) == (1, 2)
