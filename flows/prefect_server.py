"""The temporary Prefect server of `ghsync sync` and `ghsync demo` (PREFECT_API_URL unset): a
server process of this run's own, on a port this process holds from the start, that dies with
this process.

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

The server runs in a session of its own, so a Ctrl-C in the terminal (SIGINT to the terminal's
foreground process group) reaches the run only, which then still has its server to record the
interruption and hand back its token slots. It holds the read end of a pipe (its lifeline) whose
only write end this process holds: when this process dies, even by SIGKILL, the kernel closes
it, the server reads end-of-file and stops. (Linux's PR_SET_PDEATHSIG would signal the server
when the *thread* that started it ends, and exists on Linux only; the pipe needs neither, and
cannot miss a parent that died before the server was ready to watch: the end-of-file waits.)
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

STARTUP_SECONDS = 180.0
"""How long the server may take to start (Prefect's 20 s failed first syncs on 2 busy cores);
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS overrides it."""
STOP_SECONDS = 5.0
"""How long a stopping server may take before it is killed."""
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


@dataclass
class TemporaryServer:
    """A server process, its API URL, and the write end of its lifeline."""

    process: subprocess.Popen[bytes]
    url: str
    lifeline: int

    @property
    def pid(self) -> int:
        return self.process.pid


_running: list[TemporaryServer] = []


def is_temporary(api_url: str | None) -> bool:
    """True when `api_url` is unset (Prefect's own temporary server) or this module's server."""
    return not api_url or api_url == os.environ.get(TEMPORARY_URL)


def start_temporary_server(
    output: IO[bytes] | None = None, meanwhile: Callable[[], object] = lambda: None
) -> TemporaryServer | None:
    """Unless PREFECT_API_URL names a server (checked: ConfigError when it does not answer):
    start one of this process's own, its output to `output`, and point PREFECT_API_URL at it.
    Call before Prefect is imported; `meanwhile` runs while the server starts (it may import
    Prefect: PREFECT_API_URL is set by then; the imports take ~1.5 s the start would otherwise
    add). The server stops when the process exits, after Prefect has sent its last logs and
    events (their workers stop before `atexit` handlers run)."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        check_configured(configured)
        meanwhile()
        return None
    assert "prefect" not in sys.modules, "start the temporary server before importing Prefect"
    server = launch(output)
    _running.append(server)
    atexit.register(stop, server)
    os.environ.update({"PREFECT_API_URL": server.url, TEMPORARY_URL: server.url})
    os.environ.setdefault("PREFECT_UI_URL", "")  # it serves no UI: no dead "View at" links
    try:
        meanwhile()
        wait_healthy(server)
    except BaseException:
        stop(server)
        raise
    return server


def check_configured(url: str) -> None:
    """ConfigError unless a server answers at `url` (the PREFECT_API_URL), in any way: an HTTP
    error (a server wanting credentials, say) is Prefect's to report; no answer is ours."""
    from ghsync import ConfigError  # not at the top: the server process needs no ghsync

    try:
        urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=10).close()
    except urllib.error.HTTPError:
        return
    except (OSError, ValueError) as error:
        problem = str(getattr(error, "reason", None) or error)
        raise ConfigError(
            f"no Prefect server answers at PREFECT_API_URL={url} ({problem}): start it "
            "(prefect server start), or unset PREFECT_API_URL to use a temporary one"
        ) from error


def launch(output: IO[bytes] | None = None) -> TemporaryServer:
    """A Prefect server process and its API URL, on a loopback port bound here before the
    process starts: no other server can take the port while this one migrates its database."""
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    watch, lifeline = os.pipe()  # not inheritable: no other child holds the write end
    with listener:  # the server process keeps its own copies
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.prefect_server", str(listener.fileno()), str(watch)],
            pass_fds=[listener.fileno(), watch],
            env={**os.environ, **SERVER_ENV},
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    os.close(watch)
    return TemporaryServer(process, url, lifeline)


def stop(server: TemporaryServer, timeout: float = STOP_SECONDS) -> None:
    """Stop the server process (killed if it takes longer than `timeout`)."""
    if server in _running:
        _running.remove(server)
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if server.lifeline >= 0:
        os.close(server.lifeline)
        server.lifeline = -1


def kill_all() -> None:
    """Kill the servers of this process at once (a run that must exit now)."""
    for server in list(_running):
        server.process.kill()
        stop(server)


def wait_healthy(server: TemporaryServer) -> None:
    """Wait until the server answers `/health`; ServerStartFailed if it exits or takes too long."""
    limit = float(
        os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", STARTUP_SECONDS)
    )
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise ServerStartFailed(f"the temporary Prefect server exited ({code})")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass  # still starting: the socket queues the request until the server accepts
    raise ServerStartFailed(f"the temporary Prefect server did not start in {limit:.0f} s")


def _stop_when_orphaned(watch: int) -> None:
    """In the server process: when the lifeline reads end-of-file (the run's process ended,
    however), stop as on SIGTERM, and at once if that takes too long."""
    while os.read(watch, 1):
        pass
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(STOP_SECONDS)
    os._exit(1)


def serve(descriptor: int, watch: int) -> None:
    """The server process: Prefect's API app on the inherited listening socket, until its
    parent's process ends."""
    threading.Thread(target=_stop_when_orphaned, args=(watch,), daemon=True).start()
    import uvicorn

    config = uvicorn.Config(
        "prefect.server.api.server:create_app", factory=True, lifespan="on", log_level="error"
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=descriptor)])


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
