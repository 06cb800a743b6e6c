"""Sync options out of range fail at once with one clear error (a flow parameter or CLI)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ghsync.config import check_sync_options
from ghsync.errors import ConfigError

GOOD: dict[str, Any] = {
    "days_back": 30,
    "concurrency_per_token": 2,
    "page_size": 50,
    "check_run_reserve": 100,
    "max_wait_seconds": 900.0,
    "checkpoint_ttl_hours": 24.0,
    "ci_recheck_days": 3,
}


def test_defaults_and_edges_pass() -> None:
    check_sync_options(**GOOD)
    check_sync_options(**{**GOOD, "days_back": None, "ci_recheck_days": 0, "page_size": 100})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"concurrency_per_token": 0}, "concurrency_per_token must be at least 1, not 0"),
        ({"days_back": -5}, "days_back must be at least 1 (or none), not -5"),
        ({"page_size": 101}, "page_size must be 1 to 100, not 101"),
        ({"ci_recheck_days": -1}, "ci_recheck_days must be at least 0, not -1"),
    ],
)
def test_out_of_range_is_a_config_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_sync_options(**{**GOOD, **change})


def test_every_bad_option_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        check_sync_options(**{**GOOD, "concurrency_per_token": 0, "days_back": 0})
    assert "concurrency_per_token" in str(error.value) and "days_back" in str(error.value)
