"""`ghsync sync`'s temporary Prefect server holds its port from before it starts: another
server cannot take the port during its startup and answer in its place (which had a run go on
against another server's database, then its own, every repository failing). It runs in a
session of its own (a Ctrl-C in the terminal does not reach it) and stops when its lifeline,
held by the run's process only, closes: when that process ends, however it ends."""

from __future__ import annotations

import os
import signal
import socket
import urllib.request
from pathlib import Path

import pytest

from flows.prefect_server import launch, stop, wait_healthy


def test_the_port_is_taken_before_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # a new database to migrate
    server = launch()
    try:
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        # what another process's temporary server does with the port (uvicorn, SO_REUSEADDR),
        # while this one is still migrating its database
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.bind(("127.0.0.1", port))
        assert server.process.poll() is None  # still starting (or serving)
        wait_healthy(server)
        with urllib.request.urlopen(f"{server.url}/health", timeout=30) as answer:
            assert answer.status == 200
    finally:
        stop(server)
    assert server.process.returncode is not None


def test_the_server_stops_when_its_lifeline_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    server = launch()
    try:
        assert os.getsid(server.pid) == server.pid  # out of the terminal's process group
        wait_healthy(server)
        os.close(server.lifeline)  # what the kernel does when the run's process dies
        server.lifeline = -1
        # it sends itself SIGTERM: uvicorn's graceful stop, which ends by raising it again
        assert server.process.wait(timeout=60) == -signal.SIGTERM
    finally:
        stop(server)
