"""Headless Debian Chromium driven over the Chrome DevTools Protocol (a websocket): open a page,
record every request it makes and every console error or exception, take a screenshot."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900",
)  # fmt: skip
STARTUP_SECONDS = 60.0
REPLY_SECONDS = 60.0

Message = dict[str, Any]


@dataclass
class Page:
    """One tab, attached in flat mode: commands carry its session id."""

    socket: ClientConnection
    session: str
    events: list[Message] = field(default_factory=list)
    _next_id: int = 0

    def send(self, method: str, **params: Any) -> Message:
        """Run a command; its result. Events arriving meanwhile are kept in `events`."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        self.socket.send(json.dumps(message | {"sessionId": self.session}))
        reply = self._receive_until(lambda m: m.get("id") == self._next_id, REPLY_SECONDS)
        assert "error" not in reply, f"{method}: {reply['error']}"
        result: Message = reply["result"]
        return result

    def wait_for(self, predicate: Callable[[Message], bool], seconds: float) -> Message:
        """The first event (kept, or arriving within `seconds`) that `predicate` accepts."""
        for event in self.events:
            if predicate(event):
                return event
        return self._receive_until(predicate, seconds)

    def _receive_until(self, predicate: Callable[[Message], bool], seconds: float) -> Message:
        deadline = time.monotonic() + seconds
        while True:
            message: Message = json.loads(self.socket.recv(timeout=deadline - time.monotonic()))
            if "method" in message:
                self.events.append(message)
            if predicate(message):
                return message

    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and the browser's error log entries."""
        found = []
        for event in self.events:
            method, params = event["method"], event["params"]
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(f"console: {params['args']}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails']}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']}")
        return found

    def screenshot(self, path: Path, height: float) -> None:
        """The page's top `height` CSS pixels, the page's full width, as PNG."""
        width = self.send("Page.getLayoutMetrics")["cssContentSize"]["width"]
        clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        shot = self.send("Page.captureScreenshot", format="png", clip=clip,
                         captureBeyondViewport=True)  # fmt: skip
        path.write_bytes(base64.b64decode(shot["data"]))


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A blank tab of a new headless Chromium (its own throwaway profile), with the Network,
    Runtime, Log and Page domains enabled; the browser is stopped after the block."""
    binary = shutil.which("chromium")
    assert binary, "chromium is missing: `make browser` installs Debian's package"
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with connect(
                _browser_socket(Path(profile), process), max_size=None, proxy=None
            ) as socket:
                yield _attach(socket)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _browser_socket(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """The browser's websocket URL, from the DevToolsActivePort file Chromium writes once it
    listens (its port, then its path)."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"chromium exited with {process.returncode}"
        lines = port_file.read_text().split() if port_file.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    raise AssertionError(f"chromium did not listen within {STARTUP_SECONDS} s")


def _attach(socket: ClientConnection) -> Page:
    socket.send(json.dumps({"id": 1, "method": "Target.createTarget", "params": {"url": ""}}))
    target = _reply(socket, 1)["targetId"]
    attach = {"targetId": target, "flatten": True}
    socket.send(json.dumps({"id": 2, "method": "Target.attachToTarget", "params": attach}))
    page = Page(socket, _reply(socket, 2)["sessionId"], _next_id=2)
    for domain in ("Network", "Runtime", "Log", "Page"):
        page.send(f"{domain}.enable")
    page.send("Page.setLifecycleEventsEnabled", enabled=True)
    return page


def _reply(socket: ClientConnection, command: int) -> Message:
    """The browser's reply to `command` (the browser sends no event before we attach)."""
    deadline = time.monotonic() + REPLY_SECONDS
    while True:
        message: Message = json.loads(socket.recv(timeout=deadline - time.monotonic()))
        if message.get("id") == command:
            assert "error" not in message, message["error"]
            result: Message = message["result"]
            return result
