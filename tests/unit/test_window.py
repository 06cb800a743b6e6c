"""The sync window: what a session fetches, and where a page walk stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ghsync.timestamps import parse_time
from ghsync.window import SyncWindow, plan_window, synced_depth

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


DEPTH = NOW - timedelta(days=30)
LATER = MARK + timedelta(hours=1)


@pytest.mark.parametrize(
    ("days_back", "newest", "expected"),
    [
        (30, MARK, None),  # as deep as synced, nothing new
        (20, MARK, None),  # shallower: nothing to fetch
        (365, MARK, SyncWindow(NOW - timedelta(days=365), MARK)),  # deeper: its own session
        (None, MARK, SyncWindow(None, MARK)),  # everything
        (30, MARK + timedelta(hours=1), SyncWindow(MARK, MARK + timedelta(hours=1))),
        (
            365,
            MARK + timedelta(hours=1),
            SyncWindow(NOW - timedelta(days=365), MARK + timedelta(hours=1)),
        ),
    ],
    ids=[
        "same-depth",
        "shallower",
        "deeper",
        "deeper-to-everything",
        "incremental",
        "deeper-and-new",
    ],
)
def test_a_deeper_days_back_opens_a_session_from_that_depth(
    days_back: int | None, newest: datetime, expected: SyncWindow | None
) -> None:
    window = plan_window(
        watermark=MARK,
        newest_update=newest,
        days_back=days_back,
        full=False,
        now=NOW,
        depth_since=DEPTH,
    )
    assert window == expected


def test_all_history_synced_never_deepens() -> None:
    window = plan_window(
        watermark=MARK, newest_update=MARK, days_back=None, full=False, now=NOW, depth_since=None
    )
    assert window is None


def test_synced_depth_reaches_back_and_never_shortens() -> None:
    first = SyncWindow(DEPTH, MARK)
    assert synced_depth(None, None, first) == DEPTH  # a first sync reaches its since
    assert synced_depth(DEPTH, MARK, SyncWindow(MARK, NOW)) == DEPTH  # incremental: the same
    deeper = NOW - timedelta(days=365)
    assert synced_depth(DEPTH, MARK, SyncWindow(deeper, NOW)) == deeper
    assert synced_depth(DEPTH, MARK, SyncWindow(None, NOW)) is None  # full: all of it
    assert synced_depth(None, MARK, SyncWindow(MARK, NOW)) is None  # all stays all
