"""Sync options out of range fail at once with one clear error (a flow parameter or CLI)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from ghsync.config import DEFAULT_OPTIONS, SyncOptions
from ghsync.errors import ConfigError


def test_defaults_and_edges_pass() -> None:
    assert SyncOptions() == DEFAULT_OPTIONS
    SyncOptions(days_back=None, ci_recheck_days=0, page_size=100, check_run_reserve=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"concurrency_per_token": 0}, "concurrency_per_token must be at least 1, not 0"),
        ({"days_back": -5}, "days_back must be at least 1 (or none), not -5"),
        ({"page_size": 101}, "page_size must be 1 to 100, not 101"),
        ({"ci_recheck_days": -1}, "ci_recheck_days must be at least 0, not -1"),
        ({"check_run_reserve": -1}, "check_run_reserve must be at least 0, not -1"),
        ({"max_wait_seconds": -1.0}, "max_wait_seconds must be at least 0, not -1.0"),
        ({"checkpoint_ttl_hours": 0.0}, "checkpoint_ttl_hours must be above 0, not 0.0"),
    ],
)
def test_out_of_range_is_a_config_error(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        SyncOptions(**change)


def test_every_bad_option_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        SyncOptions(concurrency_per_token=0, days_back=0)
    assert "concurrency_per_token" in str(error.value) and "days_back" in str(error.value)


def test_checkpoints_off_keep_nothing() -> None:
    assert SyncOptions(checkpoint_ttl_hours=2.0).checkpoint_ttl == timedelta(hours=2)
    assert SyncOptions(checkpoints=False).checkpoint_ttl is None
