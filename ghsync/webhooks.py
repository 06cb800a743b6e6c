"""GitHub's webhook deliveries -> the changes a sync acts on (`ghsync webhook serve`).

A delivery is checked in this order, and refused at the first step it fails, before anything
after that step is read or believed:

1. its size (413 over `max_body`: aiohttp stops reading there);
2. its `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the shared secret, compared in
   constant time (401 when missing or wrong, the same answer for both);
3. its headers and body (400 when `X-GitHub-Event`, `X-GitHub-Delivery` or the JSON is missing
   or malformed; GitHub sends JSON, or a form with a `payload` field when the hook is set to
   `application/x-www-form-urlencoded`);
4. `ping` is answered 200; an event ghsync does not use is answered 202 and dropped;
5. a delivery id seen before (GitHub's "Redeliver", a retry of ours) is answered 200 and
   dropped;
6. the change is handed to `emit` (a Prefect event, flows/webhook.py); 503 when that fails, so
   GitHub lists the delivery as failed and it can be redelivered (GitHub never retries one
   on its own).

Nothing of a payload is logged but the event, its action, the repository and the delivery id,
and only those (with PR numbers and the head commit) go into the change: PR bodies, e-mails
and the like never leave the receiver. The secret stays inside the application.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from ghsync.errors import ConfigError
from ghsync.github.fetch import validate_repo_names
from ghsync.log import get_logger

log = get_logger(__name__)
RECEIVER_LOGGER = log.name

MAX_BODY_BYTES = 5 * 1024 * 1024
"""Deliveries above this are refused (GitHub caps payloads at 25 MB; a PR event with a long
body and many labels is tens of kilobytes)."""
REMEMBERED_DELIVERIES = 10_000
"""How many delivery ids the receiver remembers to drop redeliveries."""
PATH = "/webhook"
"""Where GitHub posts (the hook's Payload URL ends with it)."""
HEALTH_PATH = "/health"


class Kind(StrEnum):
    """What happened, as the Prefect event names it (`github.<kind>.changed`)."""

    PULL_REQUEST = "pull-request"
    REVIEW = "review"
    CI = "ci"


KINDS: Mapping[str, Kind] = {
    "pull_request": Kind.PULL_REQUEST,
    "pull_request_review": Kind.REVIEW,
    "check_run": Kind.CI,
    "check_suite": Kind.CI,
    "status": Kind.CI,
}
"""The events ghsync uses. `push` is not one: a push to a PR's branch also sends
`pull_request` (synchronize), and one to any other branch changes no PR."""


@dataclass(frozen=True)
class Change:
    """One useful delivery: the repository and what changed in it."""

    delivery: str
    """GitHub's `X-GitHub-Delivery` (a GUID; the same for a redelivery)."""
    repo: str
    kind: Kind
    github_event: str
    action: str | None
    numbers: tuple[int, ...]
    """The PRs it names (none for `status`, or CI of a head in a fork)."""
    head_sha: str | None
    """The commit whose CI changed (CI events only)."""

    @property
    def event(self) -> str:
        return f"github.{self.kind}.changed"


class MalformedDelivery(ValueError):
    """A signed delivery whose headers or body are not what GitHub sends."""


def signature_matches(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def payload_of(body: bytes, content_type: str) -> dict[str, Any]:
    """The delivery's JSON object, sent as JSON or as the form field `payload`."""
    try:
        text = body.decode()
        if content_type == "application/x-www-form-urlencoded":
            text = parse_qs(text, strict_parsing=True)["payload"][0]
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError, KeyError) as error:
        raise MalformedDelivery(f"not a JSON payload: {type(error).__name__}") from error
    if not isinstance(payload, dict):
        raise MalformedDelivery("the payload is not a JSON object")
    return payload


def change_of(github_event: str, delivery: str, payload: Mapping[str, Any]) -> Change | None:
    """The change a delivery of `github_event` reports (None: an event ghsync does not use)."""
    kind = KINDS.get(github_event)
    if kind is None:
        return None
    try:
        [repo] = validate_repo_names([payload["repository"]["full_name"]])
        action = payload.get("action")
        if kind is Kind.CI:
            numbers, head_sha = _ci_subject(github_event, payload)
        else:
            numbers, head_sha = (int(payload["pull_request"]["number"]),), None
    except (KeyError, TypeError, ValueError, ConfigError) as error:
        raise MalformedDelivery(f"a {github_event} payload without {error}") from error
    if action is not None and not isinstance(action, str):
        raise MalformedDelivery(f"a {github_event} payload with a bad action")
    return Change(delivery, repo, kind, github_event, action, numbers, head_sha)


def _ci_subject(github_event: str, payload: Mapping[str, Any]) -> tuple[tuple[int, ...], str]:
    """The PR numbers and head commit of a CI event (`status` names only its commit)."""
    if github_event == "status":
        return (), str(payload["sha"])
    subject = payload[github_event]  # the check_run or check_suite object
    numbers = tuple(int(pr["number"]) for pr in subject.get("pull_requests") or ())
    return numbers, str(subject["head_sha"])


class DeliveryLog:
    """The ids of the last `size` deliveries emitted, and of those being emitted now."""

    def __init__(self, size: int = REMEMBERED_DELIVERIES) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: set[str] = set()

    def claim(self, delivery: str) -> bool:
        """Whether `delivery` is new; it is then pending until `done` or `failed`."""
        if delivery in self._seen or delivery in self._pending:
            return False
        self._pending.add(delivery)
        return True

    def done(self, delivery: str) -> None:
        self._pending.discard(delivery)
        self._seen[delivery] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)

    def failed(self, delivery: str) -> None:
        """Not emitted: a redelivery of it is welcome."""
        self._pending.discard(delivery)


Emit = Callable[[Change], Awaitable[None]]
"""Hands a change on (to Prefect); raises when it could not."""


@dataclass
class Counts:
    """What the receiver answered since it started (its health endpoint shows them)."""

    emitted: int = 0
    duplicates: int = 0
    ignored: int = 0
    refused: int = 0
    failed: int = 0


def receiver(
    secret: str,
    emit: Emit,
    *,
    max_body: int = MAX_BODY_BYTES,
    remember: int = REMEMBERED_DELIVERIES,
) -> web.Application:
    """The receiver as an aiohttp application: POST `PATH`, GET `HEALTH_PATH`."""
    if not secret:
        raise ConfigError("no webhook secret: set GITHUB_WEBHOOK_SECRET or --secret-block")
    key = secret.encode()
    deliveries = DeliveryLog(remember)
    counts = Counts()

    def refuse(status: int, message: str, request: web.Request) -> web.Response:
        counts.refused += 1
        log.warning("refused a delivery from %s: %d %s", request.remote, status, message)
        return web.json_response({"message": message}, status=status)

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > max_body:
            return refuse(413, f"payload over {max_body} bytes", request)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(413, f"payload over {max_body} bytes", request)
        if not signature_matches(key, body, request.headers.get("X-Hub-Signature-256")):
            return refuse(401, "bad or missing X-Hub-Signature-256", request)
        github_event = request.headers.get("X-GitHub-Event")
        delivery = request.headers.get("X-GitHub-Delivery")
        if not github_event or not delivery:
            return refuse(400, "no X-GitHub-Event or X-GitHub-Delivery header", request)
        try:
            payload = payload_of(body, request.content_type)
            change = change_of(github_event, delivery, payload)
        except MalformedDelivery as error:
            return refuse(400, str(error), request)
        if github_event == "ping":
            log.info("delivery %s: ping from hook %s", delivery, payload.get("hook_id"))
            return web.json_response({"message": "pong"})
        if change is None:
            counts.ignored += 1
            return web.json_response({"message": f"{github_event} is not used"}, status=202)
        if not deliveries.claim(delivery):
            counts.duplicates += 1
            log.info("delivery %s: seen before, dropped", delivery)
            return web.json_response({"message": "delivered before"})
        try:
            await emit(change)
        except Exception as error:
            deliveries.failed(delivery)
            counts.failed += 1
            log.error("delivery %s: not emitted: %s", delivery, type(error).__name__)
            return web.json_response({"message": "could not emit the event"}, status=503)
        deliveries.done(delivery)
        counts.emitted += 1
        action = f".{change.action}" if change.action else ""
        log.info("delivery %s: %s%s %s -> %s", delivery, github_event, action, change.repo,
                 change.event)  # fmt: skip
        return web.json_response({"message": "emitted", "event": change.event})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **vars(counts)})

    app = web.Application(client_max_size=max_body)
    app.router.add_post(PATH, receive)
    app.router.add_get(HEALTH_PATH, health)
    return app
