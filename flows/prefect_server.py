"""The temporary Prefect server of `ghsync sync` and `ghsync demo` (PREFECT_API_URL unset): a
server process of this run's own, on a port this process holds from the start.

Prefect's own temporary server picks a random port in 8000-8999 that is free at that instant,
starts uvicorn on it and takes the first 200 from `/api/health` on that port for its server's.
Uvicorn binds only after the server's startup (database migrations: 6-20 s, the longest on a
new PREFECT_HOME, more on a busy machine). Every `prefect` command, test session and sync starts
such a server, so another one can take the port meanwhile: the run then talks to that server
and its database, and when that process ends, its own server binds the port and the run goes on
against a database without its flow run, its concurrency limits and its artifacts (the task run
recorder's `FOREIGN KEY constraint failed`, then `Concurrency limits [...] must be created
before acquiring slots` or `Artifact not found` for every repository).

Here this process binds a loopback port first and the server serves on that very socket
(inherited), so nothing else can answer on it. PREFECT_API_URL is set before Prefect is
imported, so every part of Prefect in this process (client, events, logs) uses this server.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

STARTUP_SECONDS = 180.0
"""How long the server may take to start (Prefect's 20 s failed first syncs on 2 busy cores);
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS overrides it."""
TEMPORARY_URL = "GHSYNC_TEMPORARY_PREFECT_API_URL"
"""Set to the temporary server's API URL while it serves this process."""
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
"""As Prefect runs its temporary server: no UI, the services of a temporary server."""


class ServerStartFailed(Exception):
    """The temporary Prefect server did not start."""


def is_temporary(api_url: str | None) -> bool:
    """True when `api_url` is unset (Prefect's own temporary server) or this module's server."""
    return not api_url or api_url == os.environ.get(TEMPORARY_URL)


def start_temporary_server() -> None:
    """Unless PREFECT_API_URL names a server: start one of this process's own and point
    PREFECT_API_URL at it. Call before Prefect is imported. The server stops when the process
    exits, after Prefect has sent its last logs and events (their workers stop before `atexit`
    handlers run)."""
    if os.environ.get("PREFECT_API_URL"):
        return
    assert "prefect" not in sys.modules, "start the temporary server before importing Prefect"
    server, url = launch()
    atexit.register(stop, server)
    try:
        wait_healthy(server, url)
    except BaseException:
        stop(server)
        raise
    os.environ.update({"PREFECT_API_URL": url, TEMPORARY_URL: url})
    os.environ.setdefault("PREFECT_UI_URL", "")  # it serves no UI: no dead "View at" links


def launch() -> tuple[subprocess.Popen[bytes], str]:
    """A Prefect server process and its API URL, on a loopback port bound here before the
    process starts: no other server can take the port while this one migrates its database."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    with listener:  # the server process keeps its own copy
        server = subprocess.Popen(
            [sys.executable, "-m", "flows.prefect_server", str(listener.fileno())],
            pass_fds=[listener.fileno()],
            env={**os.environ, **SERVER_ENV},
        )
    return server, url


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server process (at once if it ignores SIGTERM for 30 s)."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_healthy(server: subprocess.Popen[bytes], url: str) -> None:
    """Wait until the server answers `/health`; ServerStartFailed if it exits or takes too long."""
    limit = float(
        os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", STARTUP_SECONDS)
    )
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServerStartFailed(f"the temporary Prefect server exited ({server.returncode})")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass  # still starting: the socket queues the request until the server accepts
    raise ServerStartFailed(f"the temporary Prefect server did not start in {limit:.0f} s")


def serve(descriptor: int) -> None:
    """The server process: Prefect's API app on the inherited listening socket."""
    import uvicorn

    config = uvicorn.Config(
        "prefect.server.api.server:create_app", factory=True, lifespan="on", log_level="error"
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=descriptor)])


if __name__ == "__main__":
    serve(int(sys.argv[1]))
