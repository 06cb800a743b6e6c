"""Relay connections over plain lists, with GitHub's keyset cursors."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from ghsync.emulator.ids import decode_cursor, encode_cursor

Obj = dict[str, Any]
Key = tuple[Any, ...]


class CursorError(ValueError):
    """A cursor that is not one of ours."""


def positional(items: Sequence[Obj]) -> tuple[list[Obj], list[Key]]:
    """Items in stored order, keyed by position (lists that only grow)."""
    return list(items), [(index,) for index in range(len(items))]


def ordered(items: Sequence[Obj], sort_key: Callable[[Obj], Any]) -> tuple[list[Obj], list[Key]]:
    """Items ascending by (sort value, databaseId): a stable, unique key for keyset paging."""
    keyed = sorted(((sort_key(item), item["databaseId"]), item) for item in items)
    return [item for _, item in keyed], [key for key, _ in keyed]


def connection(
    ascending: list[Obj], keys: list[Key], args: dict[str, Any], *, descending: bool = False
) -> Obj:
    """The connection object for `first/last/after/before` over items sorted ascending by key.

    `descending` serves the same list newest-first without copying it.
    """
    after, before = _key(args.get("after")), _key(args.get("before"))
    count = len(keys)
    if descending:
        low = count - bisect_left(keys, after) if after is not None else 0
        high = count - bisect_right(keys, before) if before is not None else count
    else:
        low = bisect_right(keys, after) if after is not None else 0
        high = bisect_left(keys, before) if before is not None else count
    high = max(high, low)
    first, last = args.get("first"), args.get("last")
    start, stop = low, high
    if first is not None:
        stop = min(stop, start + first)
    if last is not None:
        start = max(start, stop - last)

    def at(position: int) -> int:
        return count - 1 - position if descending else position

    page = [(ascending[at(p)], keys[at(p)]) for p in range(start, stop)]
    edges = [{"cursor": encode_cursor(list(key)), "node": item} for item, key in page]
    return {
        "edges": edges,
        "nodes": [item for item, _ in page],
        "totalCount": count,
        "pageInfo": {
            "hasNextPage": stop < count,
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _key(cursor: str | None) -> Key | None:
    if cursor is None:
        return None
    try:
        value = decode_cursor(cursor)
    except ValueError as error:
        raise CursorError(str(error)) from error
    if not isinstance(value, list):
        raise CursorError(f"`{cursor}` does not appear to be a valid cursor.")
    return tuple(value)
