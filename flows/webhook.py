"""The Prefect side of GitHub's webhooks: the events the receiver emits (`ghsync webhook serve`,
ghsync/webhooks.py), and the CI they name, read back by the runs their trigger starts.

An event is `github.<kind>.changed` (kind: pull-request, review, ci) about the resource
`github.repository.<owner>/<name>`, with the label `github.repo` that the `on-github-event`
deployment's trigger (prefect.yaml) buckets by and passes on. Its id is derived from GitHub's
delivery id, so Prefect stores a redelivery once even when two receivers took it. It is posted
to the server's `POST /events`, which answers once it has the event: the receiver answers
GitHub only then, with 503 when it could not.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.events import EventPage
from prefect.events import Event
from prefect.events.filters import (
    EventFilter,
    EventNameFilter,
    EventOccurredFilter,
    EventResourceFilter,
)
from prefect.settings import get_current_settings

from flows.secrets import secret_value
from ghsync import (
    MAX_BODY_BYTES,
    RECEIVER_LOGGER,
    Change,
    ConfigError,
    Kind,
    RedactingFilter,
    Settings,
    receiver,
)

RESOURCE_PREFIX = "github.repository."
REPO_LABEL = "github.repo"
CI_EVENT = f"github.{Kind.CI}.changed"
_DELIVERIES = uuid.UUID("5d4c0b5e-6a8e-4f0e-9a57-6b1b0c7e8f21")
"""The namespace of the events' ids (uuid5 of the delivery id)."""
CLOCK_SLACK = timedelta(seconds=1)
"""CI events are read from this long before the triggering event (timestamps' rounding)."""


def event_of(change: Change, received: datetime) -> Event:
    """The Prefect event of a useful delivery: what changed, in which repository; no more of
    the payload than PR numbers, the head commit and GitHub's names for what happened."""
    return Event.model_validate(
        {
            "id": uuid.uuid5(_DELIVERIES, change.delivery),
            "occurred": received,
            "event": change.event,
            "resource": {
                "prefect.resource.id": RESOURCE_PREFIX + change.repo,
                "prefect.resource.name": change.repo,
                REPO_LABEL: change.repo,
            },
            "payload": {
                "delivery": change.delivery,
                "github_event": change.github_event,
                "action": change.action,
                "numbers": list(change.numbers),
                "head_sha": change.head_sha,
            },
        }
    )


async def post_event(client: PrefectClient, change: Change) -> None:
    """Emit the change's event, received now; raises unless the server took it."""
    event = event_of(change, datetime.now(UTC))
    await client.request("POST", "/events", json=[event.model_dump(mode="json")])


async def ci_heads_since(repos: list[str], since: datetime) -> dict[str, list[str]]:
    """The head commits named by the CI events of `repos` since `since`, by repository (a
    trigger's window collapses many into one run, which is told only the first)."""
    query = EventFilter(
        occurred=EventOccurredFilter.model_validate(
            {"since": since - CLOCK_SLACK, "until": datetime.now(UTC)}
        ),
        event=EventNameFilter(name=[CI_EVENT]),
        resource=EventResourceFilter(id=[RESOURCE_PREFIX + repo for repo in repos]),
    )
    heads: dict[str, list[str]] = {repo: [] for repo in repos}
    async with get_client() as client:
        page: EventPage | None = await client.read_events(query, limit=50)  # the most a page holds
        while page is not None:
            for event in page.events:
                repo, sha = event.resource.get(REPO_LABEL), event.payload.get("head_sha")
                if repo in heads and isinstance(sha, str) and sha not in heads[repo]:
                    heads[repo].append(sha)
            page = await page.get_next_page(client)
    return heads


async def webhook_secret(block: str | None, settings: Settings) -> str:
    """The shared secret: the Secret block `block`, else GITHUB_WEBHOOK_SECRET."""
    if block:
        return await secret_value(block, "--secret-block")
    if settings.github_webhook_secret is None:
        raise ConfigError("no webhook secret: set GITHUB_WEBHOOK_SECRET or --secret-block NAME")
    return settings.github_webhook_secret.get_secret_value()


def _api_url() -> str:
    """The configured Prefect server (a temporary one would have no trigger, no worker)."""
    url = get_current_settings().api.url
    if not url:
        raise ConfigError(
            "PREFECT_API_URL is not set: point it at the Prefect server the deployments run on"
        )
    return url


async def checked_secret(secret_block: str | None) -> str:
    """The webhook secret, once the configured Prefect server answered its health check."""
    url = _api_url()
    async with get_client() as client:
        if (problem := await client.api_healthcheck()) is not None:
            raise ConfigError(f"the Prefect API at {url} does not answer: {problem}")
        return await webhook_secret(secret_block, Settings())


def receiver_app(secret: str, max_body: int = MAX_BODY_BYTES) -> web.Application:
    """The receiver, emitting into the configured Prefect server through one client, opened
    and closed with the application."""
    clients: list[PrefectClient] = []

    async def emit(change: Change) -> None:
        await post_event(clients[0], change)

    async def prefect_client(_: web.Application) -> AsyncIterator[None]:
        async with get_client() as client:
            clients.append(client)
            yield

    app = receiver(secret, emit, max_body=max_body)
    app.cleanup_ctx.append(prefect_client)
    return app


def _log_deliveries(secret: str) -> None:
    """The receiver's log (ghsync.webhooks) on stderr, with times; the secret, should a line
    ever hold it, masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter(lambda: [secret]))
    logger = logging.getLogger(RECEIVER_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve(
    host: str, port: int, secret_block: str | None, max_body: int, say: Callable[[str], Any]
) -> None:
    """`ghsync webhook serve`: checks, then receives until SIGINT or SIGTERM (aiohttp's
    graceful stop); `say` tells where, once it listens. A line per delivery on stderr."""
    secret = asyncio.run(checked_secret(secret_block))
    _log_deliveries(secret)
    app = receiver_app(secret, max_body)
    listening = (
        f"receiving GitHub webhooks on http://{host}:{port}/webhook for {_api_url()} "
        "(health: /health); Ctrl-C stops it"
    )
    web.run_app(app, host=host, port=port, print=lambda _: say(listening), access_log=None)
