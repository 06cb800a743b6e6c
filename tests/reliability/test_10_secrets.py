"""Scenario 10: after the other scenarios (and a run of its own that revokes a token, loses a
GitHub App installation, meets secondary limits and uses every CLI command that names
tokens), no secret appears anywhere: no token (installation tokens `ghs_` included), JWT or
line of the app's private key in captured logs, CLI output, Prefect's database (logs,
parameters, artifacts, events) and result storage, the DuckDB files, the cassettes. Masks
only."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.logging.handlers import APILogHandler
from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

from flows.sync import sync_repos
from ghsync.emulator import EmulatorConfig, FaultConfig
from ghsync.emulator.apps import InstallationConfig
from ghsync.errors import ReposFailed
from ghsync.github.apps import AppKey
from tests.apps import APP_ID, PRIVATE_KEY, app_config
from tests.reliability.conftest import Scenario, fake_tokens
from tests.reliability.leaks import Finder

CASSETTES = Path(__file__).parents[1] / "cassettes"


def prefect_database() -> Path:
    """The test server's SQLite file (`sqlite+aiosqlite:///PATH`)."""
    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    return Path(url.split("///", 1)[1])


@pytest.mark.scenario("10. Secrets")
async def test_no_token_anywhere_masks_only(
    scenario: Scenario,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    revoked, kept = fake_tokens("rs")
    # The first token is refused at its first request (the run's `viewer` query, asked of every
    # token in turn), the second after 4: the run fails mid-session, so the pages it fetched
    # stay in the checkpoint storage (a finished session's are removed) for the search below.
    # The app's installation is removed after 6 requests of its tokens.
    revoke = {revoked: 0, kept: 4}
    faults = FaultConfig(
        revoke_after=revoke, uninstall_after={11: 6}, secondary_rate=0.2, secondary_retry_after=1
    )
    app = app_config(InstallationConfig(11, "acme"))
    config = EmulatorConfig(
        seed=111, repos=1, prs=40, tokens=(revoked, kept), faults=faults, apps=(app,)
    )
    emulator = scenario.emulator(config)
    monkeypatch.setenv("GITHUB_API_URL", emulator.api_url)
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", PRIVATE_KEY)
    key_lines = [line for line in PRIVATE_KEY.splitlines() if "PRIVATE KEY" not in line]
    scenario.evidence.tokens.update(key_lines[1:-1])  # full 64-character lines of the key
    db = tmp_path / "w.duckdb"
    with pytest.raises(ReposFailed, match=r"401|rejected"):
        await sync_repos(repos=["acme/repo-1"], days_back=None, db=str(db), page_size=10)
    assert scenario.cli("status", "--db", str(db)).returncode == 0
    # the app is installed nowhere now: a configuration error (2), said without a secret
    assert scenario.cli("tokens").returncode == 2
    assert scenario.cli("tokens", GITHUB_APP_ID="").returncode in (0, 1)  # the tokens alone
    await APILogHandler.aflush()

    evidence = scenario.evidence
    finder = Finder(evidence.tokens)
    for index, line in enumerate(evidence.logs):
        finder.search(f"captured log #{index}", line)
    for index, output in enumerate(evidence.outputs):
        finder.search(f"CLI output #{index}", output)
    finder.search_tree(tmp_path_factory.getbasetemp())  # PREFECT_HOME, DuckDB files, logs
    server_db = prefect_database()
    finder.search_tree(server_db.parent)
    rows = finder.search_sqlite(server_db)
    databases = sorted(tmp_path_factory.getbasetemp().rglob("*.duckdb"))
    for path in databases:
        finder.search_duckdb(path)
    finder.search_tree(CASSETTES)
    async with get_client() as client:
        artifacts = await client.read_artifacts()
        runs = await client.read_flow_runs()
    for artifact in artifacts:
        finder.search(f"artifact {artifact.key}", json.dumps(artifact.data, default=str))
    for run in runs:
        finder.search(f"flow run {run.name} parameters", json.dumps(run.parameters, default=str))

    assert finder.found == []
    # the search saw what it was meant to: masks in logs, results, runs, artifacts, databases
    assert any("ghp_…rrrr" in line for line in evidence.logs)
    assert any(f"app-{APP_ID}/installation-11 rejected" in line for line in evidence.logs)
    assert emulator.stats()["counters"]["installation_tokens"] >= 1
    assert any("rejected (401 Bad credentials)" in line for line in evidence.logs)
    assert any("ghp_…ssss" in output for output in evidence.outputs)
    assert list((scenario.prefect_home / "storage").glob("ghsync-session-*/*"))
    assert rows > 100 and runs and artifacts and databases


def test_the_finder_finds_a_token_wherever_it_hides(tmp_path: Path) -> None:
    """The search itself: plain text, a pickle in a base64 JSON record, a DuckDB column."""
    [token] = fake_tokens("z")
    plain = tmp_path / "log.txt"
    plain.write_text(f"Authorization: bearer {token}")
    record = tmp_path / "result.json"
    payload = base64.b64encode(pickle.dumps({"secret": token})).decode()
    record.write_text(json.dumps({"metadata": {}, "result": payload}))
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as connection:
        connection.execute("CREATE TABLE t AS SELECT ? || range AS s FROM range(5000)", [token])
    for path in (plain, record):
        finder = Finder([token])
        finder.search_file(path)
        assert finder.found, path
    finder = Finder([token])
    finder.search_duckdb(db)
    assert finder.found
    finder = Finder([])  # a token nobody declared is found by its shape
    finder.search_file(record)
    assert len(finder.found) == 1
    finder = Finder([])  # so is a GitHub App's JWT
    finder.search("a log line", f"Authorization: Bearer {AppKey('1', PRIVATE_KEY).jwt(0)}")
    assert len(finder.found) == 1
