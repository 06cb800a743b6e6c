"""When a head commit's CI is settled, and how the pending list is kept (ghsync/ci.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ghsync.ci import PendingCheck, is_settled, replace_pending, unsettled


def commit(
    suites: list[tuple[str, list[str]]], statuses: list[str] | None = None
) -> dict[str, Any]:
    """A CheckRuns Commit node: suites as (status, [run statuses]), statuses as states."""
    return {
        "id": "C_1",
        "oid": "abc",
        "checkSuites": {
            "nodes": [
                {
                    "status": status,
                    "app": None,
                    "checkRuns": {"nodes": [{"status": run} for run in runs]},
                }
                for status, runs in suites
            ]
        },
        "status": None
        if statuses is None
        else {"contexts": [{"context": "ci", "state": s, "createdAt": None} for s in statuses]},
    }


@pytest.mark.parametrize(
    ("node", "settled"),
    [
        (commit([("COMPLETED", ["COMPLETED", "COMPLETED"])]), True),
        (commit([]), True),  # no CI at all: nothing to wait for
        (commit([("COMPLETED", ["COMPLETED"])], ["SUCCESS", "FAILURE"]), True),
        (commit([("COMPLETED", ["COMPLETED", "IN_PROGRESS"])]), False),
        (commit([("QUEUED", [])]), False),  # a suite whose runs have not been created yet
        (commit([("IN_PROGRESS", ["COMPLETED"])]), False),
        (commit([("COMPLETED", ["QUEUED"])]), False),
        (commit([("COMPLETED", ["COMPLETED"])], ["SUCCESS", "PENDING"]), False),
        (commit([], ["EXPECTED"]), False),
    ],
)
def test_is_settled(node: dict[str, Any], settled: bool) -> None:
    assert is_settled(node) is settled  # type: ignore[arg-type]


def test_unsettled_keeps_the_heads_still_running_and_drops_the_vanished() -> None:
    running = commit([("IN_PROGRESS", ["IN_PROGRESS"])])
    done = commit([("COMPLETED", ["COMPLETED"])])
    heads = [PendingCheck(1, "C_run"), PendingCheck(2, "C_done"), PendingCheck(3, "C_gone")]
    assert unsettled(heads, {"C_run": running, "C_done": done}) == [PendingCheck(1, "C_run")]  # type: ignore[dict-item]


def test_replace_pending_keeps_one_entry_per_pr() -> None:
    old = (PendingCheck(1, "C_a"), PendingCheck(2, "C_b"), PendingCheck(3, "C_c"))
    new = [PendingCheck(2, "C_b2"), PendingCheck(4, "C_d")]
    assert replace_pending(old, [2, 3], new) == (
        PendingCheck(1, "C_a"),
        PendingCheck(2, "C_b2"),
        PendingCheck(4, "C_d"),
    )


def test_pending_check_round_trips_as_text() -> None:
    head = PendingCheck(12, "C_kwDOAbc:with-colon")
    assert head.encode() == "12:C_kwDOAbc:with-colon"
    assert PendingCheck.decode(head.encode()) == head
