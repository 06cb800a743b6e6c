"""The README's "Run it with Prefect" sequence, end to end, offline: a real server, work pool,
Secret block, `prefect deploy --all`, a process worker and `prefect deployment run --watch`
against the emulator. The warehouse must equal the emulator's truth, the UI must show the run,
the notification automation must deliver, and no process may outlive the test.

Screenshots of the run page and its artifacts tab land in tests/output/ (not in git).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.prefect_stack import (
    BIN,
    ORG,
    ROOT,
    SECRET_BLOCK,
    TOKENS,
    Stack,
    fetch_json,
    run_sequence,
)
from tests.integration.truth import differences

OUTPUT = ROOT / "tests" / "output"
REPOS = (f"{ORG}/repo-1", f"{ORG}/repo-2")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
    "--virtual-time-budget=15000",
)  # fmt: skip
NOTIFY_BLOCK = (
    "from prefect.blocks.notifications import CustomWebhookNotificationBlock as Hook; "
    "import sys; Hook(name='test', url=sys.argv[1], json_data={'text': '{{subject}}: {{body}}'},"
    " allow_private_urls=True).save('ghsync-alerts', overwrite=True)"
)


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server that keeps every JSON body POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def chromium(stack: Stack, step: str, *arguments: str) -> str:
    """Headless Debian Chromium with a throwaway profile; its stdout."""
    binary = shutil.which("chromium")
    assert binary, "chromium is missing: .ci/run installs Debian's package (apt-get)"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    stack.timings[f"chromium {step}"] = time.monotonic() - started
    return done.stdout


def flow_runs(stack: Stack, deployment: str) -> list[dict[str, Any]]:
    body = {"deployments": {"name": {"any_": [deployment]}}}
    runs: list[dict[str, Any]] = stack.api("/flow_runs/filter", body)
    return runs


def truth(stack: Stack, repo: str) -> dict[str, Any]:
    found: dict[str, Any] = fetch_json(f"{stack.emulator_url}/_emulator/truth/{repo}")
    return found


def assert_warehouse_equals_truth(stack: Stack) -> None:
    for repo in REPOS:
        assert differences(stack.db, truth(stack, repo)) == {}, repo


def assert_deployments(stack: Stack) -> None:
    deployments = {d["name"]: d for d in stack.api("/deployments/filter", {})}
    assert set(deployments) == {
        "incremental",
        "backfill",
        "fan-out",
        "sync-repo",
        "on-github-event",
    }
    incremental, backfill = deployments["incremental"], deployments["backfill"]
    assert [s["schedule"]["cron"] for s in incremental["schedules"]] == ["0 * * * *"]
    assert backfill["schedules"] == deployments["sync-repo"]["schedules"] == []
    assert backfill["parameters"]["full"] is True
    assert deployments["fan-out"]["parameters"]["fan_out"] == "sync-repos/sync-repo"
    assert deployments["sync-repo"]["parameters"] == {}  # its parent passes every parameter
    webhook = deployments["on-github-event"]["parameters"]  # its trigger names the repository
    assert (webhook["orgs"], webhook["repos"], webhook["known_only"]) == ([], [], True)
    for name, deployment in deployments.items():
        if name != "sync-repo":
            assert deployment["parameters"]["token_secret"] == SECRET_BLOCK
        if name not in ("sync-repo", "on-github-event"):
            assert deployment["parameters"]["orgs"] == [ORG]
        assert deployment["pull_steps"] == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        ]
        assert "ghp_" not in json.dumps(deployment)


def screenshot_run(stack: Stack, run: dict[str, Any]) -> None:
    """The run's page (default UI) and its artifacts tab (the V2 UI honours `?tab=`)."""
    OUTPUT.mkdir(exist_ok=True)
    page = f"{stack.ui_url}/runs/flow-run/{run['id']}"
    artifacts = f"{stack.ui_url}/v2/runs/flow-run/{run['id']}?tab=Artifacts"
    assert run["name"] in chromium(stack, "dom run", "--dump-dom", page)
    dom = chromium(stack, "dom artifacts", "--dump-dom", artifacts)
    assert "ghsync-summary" in dom
    assert all(f"sync-progress-{repo.replace('/', '-')}" in dom for repo in REPOS)
    for name, url in (("flow-run", page), ("flow-run-artifacts", artifacts)):
        png = OUTPUT / f"prefect-{name}.png"
        png.unlink(missing_ok=True)
        chromium(stack, name, f"--screenshot={png}", url)
        assert png.stat().st_size > 20_000, png  # a blank page is a few KB


def ghsync(stack: Stack, *arguments: str) -> str:
    command = [str(BIN / "ghsync"), *arguments]
    return stack.run(f"ghsync {arguments[0]}", command, stack.worker_env())


def assert_gone(groups: list[int]) -> None:
    for group in groups:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


@pytest.mark.e2e
def test_readme_sequence_syncs_the_emulator_and_the_ui_tells_the_story(tmp_path: Path) -> None:
    stack = Stack(tmp_path, tmp_path / "ghsync.duckdb")
    groups: list[int] = []
    try:
        run_sequence(stack)
        assert_warehouse_equals_truth(stack)
        assert_deployments(stack)
        [run] = flow_runs(stack, "incremental")
        assert run["state_type"] == "COMPLETED"
        screenshot_run(stack, run)

        status = ghsync(stack, "status")
        assert all(repo in status for repo in REPOS)
        tokens = ghsync(stack, "tokens", "--token-secret", SECRET_BLOCK)
        header, *lines = tokens.strip().splitlines()
        assert header.split()[0] == "CREDENTIAL" and len(lines) == 2  # a header, a line per token
        assert not any(token in tokens for token in TOKENS)  # masked

        with webhook_receiver() as (url, received):
            python = str(BIN / "python")
            stack.run("notify block", [python, "-c", NOTIFY_BLOCK, url])
            notify = [python, "-m", "flows.notify", "custom-webhook/ghsync-alerts"]
            stack.run("automation", [*notify, "--finished"])
            stack.run("run backfill", [str(BIN / "prefect"), "deployment", "run",
                                       "sync-repos/backfill", "--watch"], stack.env)  # fmt: skip
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                time.sleep(0.2)
        [backfill] = flow_runs(stack, "backfill")
        assert [message["text"].split(":")[0] for message in received] == ["ghsync"]
        assert "Completed" in received[0]["text"] and backfill["id"] in received[0]["text"]
        assert_warehouse_equals_truth(stack)
    finally:
        groups = stack.stop()
        print("\n".join(f"{step:>24}: {seconds:5.1f} s" for step, seconds in stack.timings.items()))
    assert_gone(groups)
