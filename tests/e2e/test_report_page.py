"""`ghsync report` on a warehouse like the demo's (the emulator's org synced by the real flow),
opened in headless Chromium over the DevTools Protocol: the page requests nothing but itself
(no script, font or image from anywhere), logs no console error or exception, and shows its
sections. The top of the page, up to the end of "all repositories", is screenshot into
tests/output/report.png (kept in git, for review).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig
from ghsync.report import ALL_REPOSITORIES, headline_markdown, write_report
from tests.conftest import emulated
from tests.e2e.devtools import chromium_page

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
TOKENS = tuple(f"ghp_{c * 36}" for c in "rst")
LOAD_SECONDS = 30.0


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    """The demo's org (3 repositories, an empty and an archived one), its timeline ending NOW."""
    config = EmulatorConfig(seed=5, repos=3, prs=80, tokens=TOKENS, now=NOW)
    with emulated(monkeypatch, config) as running:
        yield running


@pytest.mark.e2e
async def test_the_report_opens_offline_without_errors(emulator: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    outcomes = await sync_repos(orgs=["acme"], days_back=None, db=str(db))
    assert {o.state for o in outcomes} <= {"synced", "unchanged"}
    out = tmp_path / "report.html"
    report = write_report(db, out, orgs=["acme"], now=NOW)
    assert report.repos == ("acme/empty", "acme/repo-1", "acme/repo-2", "acme/repo-3")
    assert f"| {ALL_REPOSITORIES} |" in headline_markdown(report)
    url = out.as_uri()

    with chromium_page() as page:
        loader = page.send("Page.navigate", url=url)["loaderId"]
        page.wait_for(
            lambda e: (
                e["method"] == "Page.lifecycleEvent"
                and e["params"]["loaderId"] == loader
                and e["params"]["name"] == "networkIdle"
            ),
            LOAD_SECONDS,
        )
        charts = page.send(
            "Runtime.evaluate",
            expression="document.querySelectorAll('#all svg').length",
            returnByValue=True,
        )
        bottom = page.send(
            "Runtime.evaluate",
            expression="document.getElementById('all').getBoundingClientRect().bottom",
            returnByValue=True,
        )
        OUTPUT.mkdir(exist_ok=True)
        page.screenshot(OUTPUT / "report.png", bottom["result"]["value"])

    assert [u for u in page.requested_urls() if not u.startswith("data:")] == [url]
    assert page.errors() == []
    assert charts["result"]["value"] == 6  # PRs, cycle time, first review, reviewers, CI, AI
