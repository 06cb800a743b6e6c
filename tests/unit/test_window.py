"""The sync window: what a session fetches, and where a page walk stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ghsync.window import SyncWindow, parse_time, plan_window

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
MARK = datetime(2026, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("watermark", "newest", "days_back", "full", "expected"),
    [
        (None, None, 30, False, None),
        (MARK, MARK, 30, False, None),
        (MARK, MARK - timedelta(hours=1), 30, False, None),
        (
            MARK,
            MARK + timedelta(seconds=1),
            30,
            False,
            SyncWindow(MARK, MARK + timedelta(seconds=1)),
        ),
        (None, MARK, 30, False, SyncWindow(NOW - timedelta(days=30), MARK)),
        (None, MARK, None, False, SyncWindow(None, MARK)),
        (MARK, MARK, 30, True, SyncWindow(None, MARK)),
        (None, None, 30, True, SyncWindow(None, None)),
    ],
    ids=[
        "no-prs",
        "unchanged",
        "older-than-watermark",
        "one-second-newer",
        "first-sync-30-days",
        "first-sync-everything",
        "full-even-when-unchanged",
        "full-of-empty-repo",
    ],
)
def test_plan_window(
    watermark: datetime | None,
    newest: datetime | None,
    days_back: int | None,
    full: bool,
    expected: SyncWindow | None,
) -> None:
    assert (
        plan_window(
            watermark=watermark, newest_update=newest, days_back=days_back, full=full, now=NOW
        )
        == expected
    )


def nodes(*stamps: str) -> list[dict[str, str]]:
    return [{"updatedAt": stamp} for stamp in stamps]


def test_cut_keeps_the_boundary_and_stops_below_it() -> None:
    window = SyncWindow(parse_time("2026-05-30T00:00:00Z"), None)
    page = nodes("2026-05-31T00:00:00Z", "2026-05-30T00:00:00Z", "2026-05-29T23:59:59Z")
    inside, stop = window.cut(page)
    assert inside == page[:2]
    assert stop


def test_cut_goes_on_while_the_page_is_inside() -> None:
    window = SyncWindow(parse_time("2026-05-01T00:00:00Z"), None)
    page = nodes("2026-05-31T00:00:00Z", "2026-05-02T00:00:00Z")
    assert window.cut(page) == (page, False)


def test_cut_without_since_takes_everything() -> None:
    page = nodes("2020-01-01T00:00:00Z")
    assert SyncWindow(None, None).cut(page) == (page, False)


def test_key_is_stable_and_distinguishes_windows() -> None:
    one = SyncWindow(MARK, NOW)
    assert one.key() == SyncWindow(MARK, NOW).key()
    assert one.key() != SyncWindow(None, NOW).key()
    assert one.key() != SyncWindow(MARK, NOW + timedelta(seconds=1)).key()
