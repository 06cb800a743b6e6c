"""`ghsync webhook serve` as a user starts it: a process of its own against a real Prefect
server (the session's), its secret from a Secret block; what it refuses to start without."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from ghsync.emulator.webhooks import sign
from tests.e2e.prefect_stack import free_port

BIN = Path(sys.executable).parent
BLOCK_SECRET, ENV_SECRET = "block-secret-91e2", "env-secret-03a7"


def environment(**settings: str | None) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PREFECT_API"))}
    keep.update({k: v for k, v in settings.items() if v is not None})
    return keep


def serve(*arguments: str, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [str(BIN / "ghsync"), "webhook", "serve", *arguments]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


def refused(*arguments: str, env: dict[str, str]) -> tuple[int, str]:
    process = serve(*arguments, env=env)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def deliver(port: int, secret: str) -> tuple[int, dict[str, str]]:
    body = json.dumps({"action": "opened", "number": 5, "pull_request": {"number": 5},
                       "repository": {"full_name": "acme/app"}}).encode()  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def secret_block(prefect_server: str) -> Iterator[str]:
    name = f"webhook-{uuid.uuid4().hex[:8]}"
    Secret(value=BLOCK_SECRET).save(name)
    yield name


def test_serves_with_the_secret_of_a_block_until_sigterm(
    prefect_server: str, secret_block: str
) -> None:
    port = free_port()
    env = environment(PREFECT_API_URL=prefect_server, GITHUB_WEBHOOK_SECRET=ENV_SECRET)
    process = serve("--port", str(port), "--secret-block", secret_block, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert f"http://127.0.0.1:{port}/webhook" in line and prefect_server in line
        assert deliver(port, ENV_SECRET)[0] == 401  # the block's secret wins
        status, answer = deliver(port, BLOCK_SECRET)
        assert (status, answer["event"]) == (200, "github.pull-request.changed")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as health:
            assert json.loads(health.read())["emitted"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert BLOCK_SECRET not in line + err and ENV_SECRET not in line + err
    # a line per delivery, with its time: the refused one and the emitted one
    assert "INFO delivery " in err and "pull_request.opened acme/app -> github.pull-request" in err
    assert "WARNING refused a delivery from 127.0.0.1: 401" in err


def test_refuses_to_start_without_a_secret(prefect_server: str) -> None:
    code, err = refused("--port", str(free_port()), env=environment(PREFECT_API_URL=prefect_server))
    assert code == 2 and "GITHUB_WEBHOOK_SECRET" in err


def test_refuses_a_secret_block_that_does_not_exist(prefect_server: str) -> None:
    env = environment(PREFECT_API_URL=prefect_server)
    code, err = refused("--port", str(free_port()), "--secret-block", "no-such-block", env=env)
    assert code == 2 and "no-such-block" in err


def test_refuses_to_start_without_a_prefect_server() -> None:
    code, err = refused("--port", str(free_port()), env=environment(GITHUB_WEBHOOK_SECRET="s"))
    assert code == 2 and "PREFECT_API_URL is not set" in err
    env = environment(
        GITHUB_WEBHOOK_SECRET="s", PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api"
    )
    code, err = refused("--port", str(free_port()), env=env)
    assert code == 2 and "does not answer" in err


def test_refuses_a_port_in_use(prefect_server: str) -> None:
    env = environment(PREFECT_API_URL=prefect_server, GITHUB_WEBHOOK_SECRET=ENV_SECRET)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, err = refused("--port", str(taken.getsockname()[1]), env=env)
    assert code == 2 and "cannot listen" in err
