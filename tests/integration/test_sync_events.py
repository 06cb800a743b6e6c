"""The flow run tells a listener in its process what it does, as it goes (`ghsync.events`):
what `ghsync sync` shows on the terminal comes from the run itself, not from Prefect's API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flows.sync import sync_repos
from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from ghsync.errors import ReposFailed
from ghsync.events import PageLoaded, Spent, listening
from ghsync.outcome import RepoOutcome
from tests.conftest import emulated

TOKENS = tuple(f"ghp_{c * 36}" for c in "wx")
PAGE = 10


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch, prefect_server: str) -> Iterator[Emulator]:
    faults = FaultConfig(denied_repos={"acme/repo-2": "NOT_FOUND"})
    config = EmulatorConfig(seed=113, repos=2, prs=30, tokens=TOKENS, faults=faults)
    with emulated(monkeypatch, config) as running:
        yield running


@dataclass
class Heard:
    """What a listener was told, in order."""

    events: list[tuple[str, object, Spent]] = field(default_factory=list)

    def checked(self, expected: Mapping[str, int | None], spent: Spent) -> None:
        self.events.append(("checked", dict(expected), spent))

    def loaded(self, page: PageLoaded, spent: Spent) -> None:
        self.events.append(("loaded", page, spent))

    def finished(self, outcome: RepoOutcome, spent: Spent) -> None:
        self.events.append(("finished", outcome, spent))


async def test_a_listener_hears_the_check_every_page_and_every_end(
    emulator: Emulator, tmp_path: Path
) -> None:
    heard = Heard()
    with listening(heard), pytest.raises(ReposFailed):
        await sync_repos(
            repos=["acme/repo-1", "acme/repo-2", "acme/empty"],
            full=True,
            db=str(tmp_path / "w.duckdb"),
            page_size=PAGE,
        )
    kinds = [kind for kind, _, _ in heard.events]
    assert kinds[0] == "checked" and kinds.count("checked") == 1
    assert heard.events[0][1] == {"acme/repo-1": 30, "acme/repo-2": None, "acme/empty": 0}
    pages = [event for kind, event, _ in heard.events if kind == "loaded"]
    assert sorted((p.repo, p.page, p.prs, p.expected) for p in pages) == [
        ("acme/empty", 1, 0, 0),  # a full sync asks for its (empty) first page
        *[("acme/repo-1", n, n * PAGE, 30) for n in (1, 2, 3)],
    ]
    points = [p.points for p in pages if p.repo == "acme/repo-1"]
    assert points == sorted(points) and points[0] > 0
    ends = {o.repo: o for kind, o, _ in heard.events if isinstance(o, RepoOutcome)}
    assert {repo: o.state for repo, o in ends.items()} == {
        "acme/repo-1": "synced",
        "acme/repo-2": "failed",
        "acme/empty": "synced",
    }
    assert ends["acme/repo-1"].prs == 30
    order = [(kind, getattr(event, "repo", None)) for kind, event, _ in heard.events]
    last_page = max(i for i, entry in enumerate(order) if entry == ("loaded", "acme/repo-1"))
    assert order.index(("finished", "acme/repo-1")) > last_page
    spent = [s for _, _, s in heard.events]
    assert [s.requests for s in spent] == sorted(s.requests for s in spent)
    stats = emulator.stats()
    assert spent[-1].points == stats["points_total"]  # the whole run: its metadata check too
    assert spent[-1].requests == stats["counters"]["graphql_requests"]
    assert [t.mask for t in spent[-1].tokens] == ["ghp_…wwww", "ghp_…xxxx"]
    assert all(t.remaining is not None for t in spent[-1].tokens)
