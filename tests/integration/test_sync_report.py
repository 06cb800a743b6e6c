"""The report after a sync (issue 20): the flow publishes the headline figures as the
`ghsync-headlines` artifact and writes the HTML page where GHSYNC_REPORT says; a report that
cannot be written is a warning, never the sync's failure. Real Prefect, emulator, DuckDB."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from tests.conftest import emulated

TOKENS = ("ghp_" + "r" * 36,)
REPOS = ["acme/repo-1", "acme/repo-2"]


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    with emulated(monkeypatch, EmulatorConfig(seed=4, repos=2, prs=30, tokens=TOKENS)) as e:
        yield e


async def headlines() -> str:
    artifact = await Artifact.aget("ghsync-headlines")
    assert artifact is not None
    return str(artifact.data)


async def test_a_sync_writes_the_report_and_publishes_its_headlines(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    monkeypatch.setenv("GHSYNC_REPORT", str(out))
    await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"))
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and all(repo in page for repo in REPOS)
    assert "<script" not in page
    markdown = await headlines()
    assert all(repo in markdown for repo in REPOS) and "merged" in markdown

    # Only the repositories of the run: the next run of one repository reports that one.
    monkeypatch.delenv("GHSYNC_REPORT")
    await sync_repos(repos=REPOS[:1], db=str(tmp_path / "w.duckdb"))
    markdown = await headlines()
    assert REPOS[0] in markdown and REPOS[1] not in markdown
    assert out.read_text() == page  # no GHSYNC_REPORT: no page written


async def test_a_report_that_cannot_be_written_leaves_the_sync_alone(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("GHSYNC_REPORT", str(tmp_path / "no-such-folder" / "report.html"))
    caplog.set_level(logging.WARNING)
    outcomes = await sync_repos(repos=REPOS, days_back=None, db=str(tmp_path / "w.duckdb"))
    assert [o.state for o in outcomes] == ["synced", "synced"]
    assert "no report" in caplog.text
