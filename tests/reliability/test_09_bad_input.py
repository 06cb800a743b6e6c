"""Scenario 9: bad input through the CLI: clear messages, the documented exit codes (1: some
repositories failed, 2: bad input), and the other repositories unharmed."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, FaultConfig
from ghsync.warehouse import Warehouse
from tests.reliability.conftest import Scenario, assert_equals_truth, fake_tokens


class _HtmlPage(BaseHTTPRequestHandler):
    """A web page where the GraphQL API should be (a GHES URL without /api/graphql)."""

    def do_POST(self) -> None:
        body = b"<!DOCTYPE html><html><body><h1>Sign in to GitHub</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@contextmanager
def html_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def emulator(scenario: Scenario) -> Emulator:
    faults = FaultConfig(denied_repos={"acme/repo-2": "NOT_FOUND"})
    return scenario.emulator(
        EmulatorConfig(seed=110, repos=2, prs=20, tokens=fake_tokens("q"), faults=faults)
    )


def requests(emulator: Emulator) -> int:
    return int(emulator.stats()["counters"].get("requests", 0))


@pytest.mark.scenario("9. Bad input")
def test_bad_repositories_fail_alone(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    malformed = scenario.cli("sync", "acme/repo-1", "acme", "a/b/c", "--db", str(db))
    assert malformed.returncode == 2
    assert "not a repository name (expected owner/name): 'acme', 'a/b/c'" in malformed.stderr
    assert requests(emulator) == 0 and not db.exists()
    repos = ["acme/repo-1", "acme/nope", "acme/repo-2", "acme/empty", "acme/archived"]
    mixed = scenario.cli("sync", *repos, "--org", "acme-empty", "--db", str(db), "--full")
    assert mixed.returncode == 1, mixed.stderr[-2000:]
    last = mixed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 2 repositories failed: acme/nope was not found"), last
    assert "; acme/repo-2 was not found" in last
    assert last.count("was not found (or is invisible to the configured tokens)") == 2, last
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/empty", "acme/archived")


@pytest.mark.scenario("9. Bad input")
def test_a_url_answering_html_is_a_clear_error(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    with html_server() as url:
        done = scenario.cli(
            "sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"), GITHUB_GRAPHQL_URL=url
        )
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {url} answered text/html, not GraphQL"), last
    assert "check GITHUB_GRAPHQL_URL" in last


def read_only(directory: Path) -> list[str]:
    """A command prefix under which `directory` cannot be written: a permission as such for
    ordinary users; for root (CI containers), a read-only bind mount in a mount namespace."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return []
    unshare = shutil.which("unshare")
    assert unshare is not None, "root needs unshare(1) to make a read-only directory"
    mount = f'mount --bind -o ro {directory} {directory} && exec "$@"'
    return [unshare, "--map-root-user", "--mount", "sh", "-c", mount, "sh"]


@pytest.mark.scenario("9. Bad input")
def test_database_path_missing_or_read_only(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    missing = scenario.cli("sync", "acme/repo-1", "--db", str(tmp_path / "nowhere" / "w.duckdb"))
    assert missing.returncode == 2, missing.stderr[-2000:]
    assert "nowhere does not exist; check the path (GHSYNC_DB or --db)" in missing.stderr
    locked = tmp_path / "ro"
    locked.mkdir()
    Warehouse.open(locked / "w.duckdb").close()
    done = scenario.cli("sync", "acme/repo-1", "--db", str(locked / "w.duckdb"),
                        wrapper=read_only(locked))  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{locked} is read-only; check the path (GHSYNC_DB or --db)" in done.stderr
    assert requests(emulator) == 0  # both refused before asking GitHub anything
