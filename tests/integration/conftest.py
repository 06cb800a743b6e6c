"""Shared fixtures of the integration tests: one Prefect test server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """A real Prefect server (temporary database) for the flow tests; yields its API URL."""
    os.environ.update(QUIET)
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield str(PREFECT_API_URL.value())
