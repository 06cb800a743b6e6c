"""`ghsync sync`'s temporary Prefect server holds its port from before it starts: another
server cannot take the port during its startup and answer in its place (which had a run go on
against another server's database, then its own, every repository failing)."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from flows.prefect_server import launch, stop, wait_healthy


def test_the_port_is_taken_before_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # a new database to migrate
    server, url = launch()
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        # what another process's temporary server does with the port (uvicorn, SO_REUSEADDR),
        # while this one is still migrating its database
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.bind(("127.0.0.1", port))
        assert server.poll() is None  # still starting (or serving)
        wait_healthy(server, url)
        with urllib.request.urlopen(f"{url}/health", timeout=30) as answer:
            assert answer.status == 200
    finally:
        stop(server)
    assert server.returncode is not None
