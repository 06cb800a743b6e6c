"""Fixtures shared by the integration and reliability tests: one Prefect test server for the
session, with a PREFECT_HOME of its own (checkpoints written by the tests stay out of the
user's ~/.prefect, and a test never replays a page cached by an earlier test session)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, running_emulator
from ghsync.lake import Lake, Location
from tests.postgres import Postgres, postgres_server

QUIET = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PREFECT_HOME of the session's flow runs: result storage (checkpoints) lives here."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="session")
def prefect_server(prefect_home: Path) -> Iterator[str]:
    """A real Prefect server (temporary database) for the flow tests; yields its API URL."""
    os.environ.update(QUIET)
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        temporary_settings(updates={PREFECT_HOME: str(prefect_home)}),
        prefect_test_harness(server_startup_timeout=90),
    ):
        yield str(PREFECT_API_URL.value())


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL server for the session (started by the first test asking)."""
    with postgres_server() as server:
        yield server


@pytest.fixture
def lake(postgres: Postgres, tmp_path: Path) -> Lake:
    """A new, empty DuckLake: its catalog a database of its own, its data under tmp_path."""
    name = f"lake_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name)
    return Lake(f"postgres:{postgres.conninfo(name)}", f"{tmp_path / 'lake'}/")


@pytest.fixture(params=["file", "lake"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """Each store in turn: a DuckDB file, then a DuckLake (the same SQL runs on both)."""
    if request.param == "file":
        return tmp_path / "ghsync.duckdb"
    lake: Lake = request.getfixturevalue("lake")
    return lake


@contextmanager
def emulated(monkeypatch: pytest.MonkeyPatch, config: EmulatorConfig) -> Iterator[Emulator]:
    """An emulator of `config`, with the flow (GITHUB_TOKENS: its tokens, GITHUB_GRAPHQL_URL)
    pointed at it while it runs."""
    with running_emulator(config) as running:
        tokens = [entry.partition("=")[0] for entry in config.tokens]
        monkeypatch.setenv("GITHUB_TOKENS", ",".join(tokens))
        monkeypatch.setenv("GITHUB_GRAPHQL_URL", running.graphql_url)
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        yield running
