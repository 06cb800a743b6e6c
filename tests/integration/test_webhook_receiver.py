"""The webhook receiver (ghsync/webhooks.py) against the emulator's GitHub-shaped deliveries.

Real HTTP over loopback: the receiver and the emulator share the test's loop; the emulator's
activity endpoint answers once its deliveries are answered, so nothing waits or sleeps. The
receiver's `emit` here records the changes (its Prefect side, flows/webhook.py, is the e2e
test's: tests/e2e/test_webhooks.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from ghsync import Change, ConfigError, Kind, receiver
from ghsync.emulator import Emulator, EmulatorConfig, started_emulator
from ghsync.emulator.webhooks import sign

SECRET = "hook-secret-5f1e"
REPO = "acme/repo-1"


@dataclass
class Emitted:
    """The changes the receiver handed on; `failing` makes the next hand-over raise."""

    changes: list[Change] = field(default_factory=list)
    failing: bool = False

    async def __call__(self, change: Change) -> None:
        if self.failing:
            self.failing = False
            raise ConnectionError("the Prefect server is away")
        self.changes.append(change)


@dataclass
class Running:
    url: str
    emitted: Emitted


@pytest.fixture
async def hook() -> AsyncIterator[Running]:
    emitted = Emitted()
    runner = web.AppRunner(receiver(SECRET, emitted, max_body=64 * 1024), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield Running(f"http://{host}:{port}", emitted)
    await runner.cleanup()


@pytest.fixture
async def emulator(hook: Running) -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        seed=3, repos=1, prs=30, webhook_url=f"{hook.url}/webhook", webhook_secret=SECRET
    )
    async with started_emulator(config) as running:
        yield running


def signed(body: bytes, secret: str = SECRET) -> str:
    return sign(secret, body)


async def deliver(
    hook: Running,
    body: bytes,
    *,
    event: str = "pull_request",
    signature: str | None = "sign",
    content_type: str = "application/json",
    delivery: str | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": content_type, "X-GitHub-Event": event}
    headers["X-GitHub-Delivery"] = delivery or str(uuid.uuid4())
    if signature is not None:
        headers["X-Hub-Signature-256"] = signed(body) if signature == "sign" else signature
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{hook.url}/webhook", data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.json()


def pr_payload(number: int = 3, repo: str = REPO) -> bytes:
    payload = {
        "action": "labeled",
        "number": number,
        "pull_request": {"number": number, "body": "private text", "user": {"email": "a@b.c"}},
        "repository": {"full_name": repo},
    }
    return json.dumps(payload).encode()


async def open_number(emulator: Emulator, state: str = "OPEN") -> int:
    truth = emulator.truth(REPO)
    assert truth is not None
    return int(next(pr["number"] for pr in truth["pullRequests"] if pr["state"] == state))


async def test_each_kind_of_change_is_emitted_with_its_repository_and_subject(
    hook: Running, emulator: Emulator
) -> None:
    number = await open_number(emulator)
    answers = {}
    for action in ("add_label", "add_review", "rerun_checks", "finish_checks", "post_status"):
        answer = await emulator.activity_async(action, REPO, number)
        answers[action] = [(d["event"], d["status"]) for d in answer["deliveries"]]
    head = emulator.truth(REPO)
    assert head is not None
    sha = next(pr["headRefOid"] for pr in head["pullRequests"] if pr["number"] == number)
    changes = hook.emitted.changes
    assert all(change.repo == REPO for change in changes)
    kinds = [(c.github_event, c.kind) for c in changes]
    assert ("pull_request", Kind.PULL_REQUEST) in kinds
    assert ("pull_request_review", Kind.REVIEW) in kinds
    assert {"check_run", "check_suite", "status"} <= {e for e, k in kinds if k is Kind.CI}
    for change in changes:
        if change.kind is Kind.CI:
            assert change.head_sha == sha and change.event == "github.ci.changed"
            assert change.numbers == (() if change.github_event == "status" else (number,))
        else:
            assert change.numbers == (number,) and change.head_sha is None
    every = [status for statuses in answers.values() for _, status in statuses]
    assert every and set(every) == {200}  # each delivery emitted, none refused
    assert len(changes) == len(every)


async def test_a_push_is_answered_202_and_not_emitted(hook: Running, emulator: Emulator) -> None:
    answer = await emulator.activity_async("add_commit", REPO, await open_number(emulator))
    statuses = {d["event"]: d["status"] for d in answer["deliveries"]}
    assert statuses["push"] == 202
    assert statuses["pull_request"] == 200
    assert "push" not in {change.github_event for change in hook.emitted.changes}


async def test_ci_of_a_head_in_a_fork_names_the_commit_but_no_pr(hook: Running) -> None:
    config = EmulatorConfig(
        seed=3, repos=1, prs=30, webhook_url=f"{hook.url}/webhook", webhook_secret=SECRET,
        webhook_fork_heads=True,
    )  # fmt: skip
    async with started_emulator(config) as forked:
        await forked.activity_async("rerun_checks", REPO, await open_number(forked))
    [change] = hook.emitted.changes
    assert change.kind is Kind.CI and change.numbers == () and change.head_sha


async def test_a_redelivery_is_answered_but_not_emitted_again(
    hook: Running, emulator: Emulator
) -> None:
    answer = await emulator.activity_async("touch", REPO, await open_number(emulator))
    [first] = answer["deliveries"]
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/_emulator/redeliver", json={"id": first["id"]}) as again,
    ):
        assert (await again.json())["status"] == 200
    assert [change.delivery for change in hook.emitted.changes] == [first["id"]]


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha1=0123", "sha256=" + "0" * 64, signed(pr_payload(), "wrong")],
    ids=["none", "empty", "no-digest", "sha1", "zeros", "wrong-secret"],
)
async def test_an_unsigned_or_badly_signed_delivery_is_401_and_emits_nothing(
    hook: Running, signature: str | None
) -> None:
    status, body = await deliver(hook, pr_payload(), signature=signature)
    assert status == 401
    assert hook.emitted.changes == []
    assert SECRET not in json.dumps(body)


async def test_a_signature_over_another_body_is_refused(hook: Running) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signed(pr_payload(3)),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{hook.url}/webhook", data=pr_payload(4), headers=headers) as answer,
    ):
        assert answer.status == 401
    assert hook.emitted.changes == []


async def test_an_oversized_delivery_is_413_whether_it_says_its_length_or_not(
    hook: Running,
) -> None:
    big = json.dumps({"padding": "x" * 70_000, "repository": {"full_name": REPO}}).encode()
    status, _ = await deliver(hook, big)
    assert status == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1"}
    headers["X-Hub-Signature-256"] = signed(big)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{hook.url}/webhook", data=chunks(), headers=headers) as answer,
    ):
        assert answer.status == 413
    assert hook.emitted.changes == []


@pytest.mark.parametrize(
    ("body", "event"),
    [
        (b"{not json", "pull_request"),
        (b"[1, 2]", "pull_request"),
        (b"\xff\xfe", "check_run"),
        (json.dumps({"action": "opened", "number": 1}).encode(), "pull_request"),
        (json.dumps({"repository": {"full_name": "no-slash"}, "number": 1}).encode(), "status"),
        (json.dumps({"check_run": {}, "repository": {"full_name": REPO}}).encode(), "check_run"),
    ],
    ids=["bad-json", "not-an-object", "not-utf8", "no-repository", "bad-name", "no-head-sha"],
)
async def test_a_malformed_signed_delivery_is_400_and_emits_nothing(
    hook: Running, body: bytes, event: str
) -> None:
    status, _ = await deliver(hook, body, event=event)
    assert status == 400
    assert hook.emitted.changes == []


async def test_a_delivery_without_its_event_or_id_header_is_400(hook: Running) -> None:
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signed(pr_payload())}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{hook.url}/webhook", data=pr_payload(), headers=headers) as answer,
    ):
        assert answer.status == 400
    assert hook.emitted.changes == []


async def test_a_form_encoded_delivery_is_read_from_its_payload_field(hook: Running) -> None:
    form = urlencode({"payload": pr_payload(7).decode()}).encode()
    status, _ = await deliver(hook, form, content_type="application/x-www-form-urlencoded")
    assert status == 200
    [change] = hook.emitted.changes
    assert (change.repo, change.numbers) == (REPO, (7,))


async def test_ping_is_answered_and_unused_events_are_202(hook: Running) -> None:
    ping = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    assert (await deliver(hook, ping, event="ping"))[0] == 200
    issue = json.dumps({"action": "opened", "repository": {"full_name": REPO}}).encode()
    assert (await deliver(hook, issue, event="issues"))[0] == 202
    assert hook.emitted.changes == []


async def test_a_delivery_not_emitted_is_503_and_welcome_again(hook: Running) -> None:
    hook.emitted.failing = True
    delivery = str(uuid.uuid4())
    assert (await deliver(hook, pr_payload(), delivery=delivery))[0] == 503
    assert hook.emitted.changes == []
    assert (await deliver(hook, pr_payload(), delivery=delivery))[0] == 200
    assert (await deliver(hook, pr_payload(), delivery=delivery))[0] == 200
    assert [change.delivery for change in hook.emitted.changes] == [delivery]


async def test_health_answers_with_the_counts(hook: Running) -> None:
    await deliver(hook, pr_payload())
    await deliver(hook, pr_payload(), signature=None)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{hook.url}/health") as answer,
    ):
        assert answer.status == 200
        counts = await answer.json()
    assert counts["status"] == "ok"
    assert (counts["emitted"], counts["refused"]) == (1, 1)


async def test_logs_name_no_secret_and_no_private_field(
    hook: Running, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await emulator.activity_async("add_review", REPO, await open_number(emulator))
    await deliver(hook, pr_payload())
    await deliver(hook, pr_payload(), signature=signed(pr_payload(), "wrong"))
    await deliver(hook, b"{bad", event="pull_request")
    text = caplog.text
    assert "delivery" in text and REPO in text  # it does log, with what is safe
    for private in (SECRET, "private text", "a@b.c"):
        assert private not in text


def test_a_receiver_needs_a_secret() -> None:
    async def emit(change: Change) -> None:
        raise AssertionError(change)

    with pytest.raises(ConfigError, match="GITHUB_WEBHOOK_SECRET"):
        receiver("", emit)
