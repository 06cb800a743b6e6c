"""Scenario 9: bad input through the CLI: clear messages, the documented exit codes (1: some
repositories failed, 2: bad configuration or input), and the other repositories unharmed.

Each expected failure prints one `error:` line saying what to do, and no traceback (that is
for `--verbose`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
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


class _NotFound(BaseHTTPRequestHandler):
    """What api.github.com answers on a wrong path: 404, JSON."""

    def do_POST(self) -> None:
        body = json.dumps({"message": "Not Found", "status": "404"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@contextmanager
def html_server(handler: type[BaseHTTPRequestHandler] = _HtmlPage) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
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


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    """The run's one `error:` line (its last line on stderr), after no traceback."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [done.stderr.strip().splitlines()[-1]], done.stderr[-3000:]
    return errors[0]


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
    last = one_error(mixed)
    assert last.startswith("error: 2 repositories failed: acme/nope was not found"), last
    assert "; acme/repo-2 was not found" in last
    assert last.count("was not found (or is invisible to the configured tokens)") == 2, last
    assert_equals_truth(db, emulator, "acme/repo-1", "acme/empty", "acme/archived")
    lines = mixed.stdout.splitlines()  # what did sync, also when some failed
    assert lines[0].startswith("acme/repo-1: synced, 20 PRs"), mixed.stdout
    assert lines[1].startswith("acme/nope: failed: was not found"), mixed.stdout
    assert lines[2].startswith("acme/repo-2: failed: was not found"), mixed.stdout
    assert lines[5].startswith("total: 5 repositories (3 synced, 2 failed), 25 PRs"), lines[5]


@pytest.mark.scenario("9. Bad input")
def test_nothing_listening_at_the_url_is_configuration(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    """Connection refused before anything answered: exit 2 at once, not 12 s of retries (the
    client test `test_a_refused_connection_before_any_answer_is_a_config_error_at_once` shows
    that no attempt is repeated)."""
    url = f"http://127.0.0.1:{closed_port()}/graphql"
    done = scenario.cli("sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"),
                        GITHUB_GRAPHQL_URL=url)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    line = one_error(done)
    assert line.startswith(f"error: nothing answers at {url} (connection refused)"), line
    assert "check GITHUB_GRAPHQL_URL" in line


@pytest.mark.scenario("9. Bad input")
def test_a_url_answering_404_is_a_clear_error(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    with html_server(_NotFound) as url:
        done = scenario.cli(
            "sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"), GITHUB_GRAPHQL_URL=url
        )
    assert done.returncode == 2, done.stderr[-2000:]
    line = one_error(done)
    assert line.startswith(f"error: {url} answered HTTP 404 (Not Found), not GraphQL"), line
    assert "check GITHUB_GRAPHQL_URL" in line


@pytest.mark.scenario("9. Bad input")
def test_prefect_api_url_without_a_server(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api"
    done = scenario.cli("sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"),
                        PREFECT_API_URL=api)  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    line = one_error(done)
    assert line.startswith(f"error: no Prefect server answers at PREFECT_API_URL={api}"), line
    assert "unset PREFECT_API_URL" in line
    assert requests(emulator) == 0


@pytest.mark.scenario("9. Bad input")
def test_a_missing_secret_block(scenario: Scenario, emulator: Emulator, tmp_path: Path) -> None:
    done = scenario.cli("sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"),
                        "--token-secret", "no-such-block", GITHUB_TOKENS="")  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    line = one_error(done)
    assert line.startswith("error: no Prefect Secret block named 'no-such-block'"), line
    assert requests(emulator) == 0


@pytest.mark.scenario("9. Bad input")
def test_a_file_that_is_not_a_duckdb_database(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    """Refused before a Prefect server starts (the temporary one here: no PREFECT_API_URL)
    and before GitHub is asked; `--verbose` adds the traceback."""
    db, home = tmp_path / "prs.csv", tmp_path / "prefect"  # not *.duckdb: scenario 10 opens those
    db.write_text("number,title\n1,fix the build\n")
    for verbose in ([], ["--verbose"]):
        done = scenario.cli("sync", "acme/repo-1", "--db", str(db), *verbose,
                            PREFECT_API_URL="", PREFECT_HOME=str(home))  # fmt: skip
        assert done.returncode == 2, done.stderr[-2000:]
        last = done.stderr.strip().splitlines()[-1]
        assert last == (
            f"error: warehouse {db}: the file is not a DuckDB database; restore it from a "
            "backup, or move it away and sync again"
        ), last
    assert "Traceback" in done.stderr
    assert one_error(scenario.cli("sync", "acme/repo-1", "--db", str(db)))
    assert requests(emulator) == 0 and not (home / "prefect.db").exists()
    assert db.read_text() == "number,title\n1,fix the build\n"


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


@pytest.mark.scenario("9. Bad input")
def test_options_out_of_range_fail_before_prefect_starts(
    scenario: Scenario, emulator: Emulator, tmp_path: Path
) -> None:
    """`--concurrency-per-token 0` used to wait forever, `--days-back -5` to sync nothing."""
    home = tmp_path / "prefect"
    done = scenario.cli("sync", "acme/repo-1", "--db", str(tmp_path / "w.duckdb"),
                        "--concurrency-per-token", "0", "--days-back", "-5",
                        PREFECT_API_URL="", PREFECT_HOME=str(home))  # fmt: skip
    assert done.returncode == 2, done.stderr[-2000:]
    line = one_error(done)
    assert "concurrency_per_token must be at least 1, not 0" in line, line
    assert "days_back must be at least 1 (or none), not -5" in line, line
    assert requests(emulator) == 0 and not (home / "prefect.db").exists()
