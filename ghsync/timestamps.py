"""GitHub's `DateTime` values ("2025-01-06T09:00:00Z") as aware UTC datetimes: the one parser
of the rows (records), the sync window, the rate limit's `resetAt` and an installation token's
`expires_at`."""

from __future__ import annotations

from datetime import datetime
from typing import overload


@overload
def parse_time(value: str) -> datetime: ...
@overload
def parse_time(value: None) -> None: ...
@overload
def parse_time(value: str | None) -> datetime | None: ...
def parse_time(value: str | None) -> datetime | None:
    """`value` as an aware datetime; None stays None. Raises ValueError on anything else."""
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))
