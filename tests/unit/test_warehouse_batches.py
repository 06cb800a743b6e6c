"""Pages loaded together (`Warehouse.upsert_pages`, one transaction) leave exactly what loading
them one by one leaves, including the cases where joining pages would go wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghsync.errors import WarehouseError
from ghsync.frames import PageFrames, join_pages
from ghsync.warehouse import PageLoad, SyncState, Warehouse
from tests.unit.test_warehouse import first_page, snapshot
from tests.unit.warehouse_rows import REPO, at, check_run, file, page, pr, review, status

OTHER = "acme/other"


def loads() -> list[PageLoad]:
    """Pages of two repositories as a multi-repository sync queues them: a PR on two pages (the
    newer copy last), a replayed older copy, pages without check runs next to pages with them."""
    first = page(
        [pr(1, updated_at=at(1)), pr(2, updated_at=at(1))],
        reviews=[review(1, "bob", "APPROVED", at(1))],
        files=[file(1, "a.py"), file(2, "b.py")],
        check_runs=[check_run(1, 11, "test", "SUCCESS")],
        statuses=[status(2, "ci", "SUCCESS")],
    )
    other = page(
        [pr(1, repo=OTHER, updated_at=at(1))],
        files=[file(1, "x.py", repo=OTHER)],
        check_runs=[check_run(1, 12, "lint", "FAILURE", repo=OTHER)],
    )
    pr_1_again = page(
        [pr(1, title="newer", updated_at=at(6))],
        files=[file(1, "c.py")],
        check_runs=[check_run(1, 13, "test", "FAILURE")],
    )
    older_without_checks = page(
        [pr(2, title="older", updated_at=at(-5))], files=[file(2, "old.py")], check_runs=None,
        statuses=None,
    )  # fmt: skip
    new_without_checks = page([pr(3, updated_at=at(2))], files=[file(3, "d.py")], check_runs=None,
                              statuses=None)  # fmt: skip
    return [
        (first, SyncState(REPO, cursor="p1")),
        (other, SyncState(OTHER, cursor="o1")),
        (pr_1_again, SyncState(REPO, cursor="p2")),
        (older_without_checks, None),
        (new_without_checks, SyncState(REPO, cursor="p3")),
    ]


def loaded(path: Path, batched: bool) -> dict[str, list[tuple[object, ...]]]:
    with Warehouse.open(path) as warehouse:
        warehouse.upsert_page(first_page())  # stored rows, so the deletes run too
        if batched:
            warehouse.upsert_pages(loads())
        else:
            for frames, state in loads():
                warehouse.upsert_page(frames, state)
        return snapshot(warehouse)


def test_pages_loaded_together_leave_what_one_by_one_leaves(tmp_path: Path) -> None:
    one_by_one = loaded(tmp_path / "one.duckdb", batched=False)
    assert loaded(tmp_path / "together.duckdb", batched=True) == one_by_one
    titles = {(r[0], r[1]): r[4] for r in one_by_one["pull_requests"]}
    assert titles[(REPO, 1)] == "newer" and titles[(REPO, 2)] == "PR 2"
    assert {r[0]: r[4] for r in one_by_one["sync_state"]} == {REPO: "p3", OTHER: "o1"}


def test_joining_stops_at_a_repeated_pr_and_at_different_child_tables() -> None:
    pages: list[PageFrames] = [frames for frames, _ in loads()]
    joined = join_pages(pages)
    assert [frames.pull_requests.height for frames in joined] == [3, 1, 2]
    assert sum(frames.rows() for frames in joined) == sum(frames.rows() for frames in pages)


def test_a_failing_page_rolls_back_the_pages_loaded_with_it(tmp_path: Path) -> None:
    with Warehouse.open(tmp_path / "w.duckdb") as warehouse:
        warehouse.upsert_page(first_page(), SyncState(REPO, cursor="p0"))
        before = snapshot(warehouse)
        broken = page([pr(7)], statuses=[status(7, None, "SUCCESS")])  # type: ignore[arg-type]
        batch = [*loads()[:3], (broken, None)]
        with pytest.raises(WarehouseError, match="NOT NULL"):
            warehouse.upsert_pages(batch)
        assert snapshot(warehouse) == before
