"""The emulator's webhook deliveries: what GitHub POSTs to an organization hook per activity.

Real HTTP over loopback: the emulator and a small recording receiver share the test's loop, and
the activity endpoint answers only once its deliveries are sent, so no test waits or sleeps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ghsync.emulator import Emulator, EmulatorConfig, started_emulator
from ghsync.emulator.webhooks import sign
from ghsync.emulator.world import Obj

SECRET = "It's a Secret to Everybody"
REPO = "acme/repo-1"
CI_ACTIONS = ("rerun_checks", "queue_checks", "post_status", "finish_checks")


@dataclass
class Received:
    event: str
    delivery: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; answers `status`, or holds the answer until `release` is set."""

    url: str = ""
    status: int = 204
    requests: list[Received] = field(default_factory=list)
    release: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        self.requests.append(
            Received(
                headers["X-GitHub-Event"],
                headers["X-GitHub-Delivery"],
                headers,
                await request.read(),
            )
        )
        if self.release is not None:
            await self.release.wait()
        return web.Response(status=self.status)

    def events(self) -> list[tuple[str, str | None]]:
        return [(r.event, r.payload.get("action")) for r in self.requests]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recording = Receiver()
    app = web.Application()
    app.router.add_post("/hook", recording.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    recording.url = f"http://{host}:{port}/hook"
    yield recording
    if recording.release is not None:
        recording.release.set()
    await runner.cleanup()


def hooked(url: str | None, **changes: Any) -> AbstractAsyncContextManager[Emulator]:
    config = EmulatorConfig(
        seed=5, repos=1, prs=30, webhook_url=url, webhook_secret=SECRET, **changes
    )
    return started_emulator(config)


async def post(emulator: Emulator, path: str, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/_emulator/{path}", json=body) as answer,
    ):
        return answer.status, await answer.json()


async def activity(emulator: Emulator, action: str, number: int | None = None) -> Any:
    status, body = await post(
        emulator, "activity", {"repo": REPO, "action": action, "number": number}
    )
    assert status == 200, body
    return body


def pr_of(emulator: Emulator, number: int) -> Obj:
    repo = emulator.state.world.repos[REPO]
    found: Obj = next(pr for pr in repo["pullRequests"] if pr["number"] == number)
    return found


def open_pr(emulator: Emulator, wanted: Callable[[Obj], bool] = lambda pr: True) -> int:
    repo = emulator.state.world.repos[REPO]
    number: int = next(
        pr["number"] for pr in repo["pullRequests"] if pr["state"] == "OPEN" and wanted(pr)
    )
    return number


def head_sha(emulator: Emulator, number: int) -> str:
    sha: str = pr_of(emulator, number)["headRefOid"]
    return sha


async def test_deliveries_are_signed_with_the_secret(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        answer = await activity(emulator, "touch", open_pr(emulator))
    (got,) = receiver.requests
    signature = got.headers["X-Hub-Signature-256"]
    expected = "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert hmac.compare_digest(signature, sign(SECRET, got.body))
    assert not hmac.compare_digest(signature, sign("another secret", got.body))
    legacy = "sha1=" + hmac.new(SECRET.encode(), got.body, hashlib.sha1).hexdigest()
    assert got.headers["X-Hub-Signature"] == legacy
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert got.headers["X-GitHub-Hook-ID"].isdigit()
    assert uuid.UUID(got.delivery).version == 4
    assert answer["deliveries"] == [
        {"id": got.delivery, "event": "pull_request", "action": "edited", "status": 204}
    ]


def labelled(pr: Obj) -> bool:
    return bool(pr["labels"])


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("touch", [("pull_request", "edited")]),
        ("add_review", [("pull_request_review", "submitted")]),
        ("add_label", [("pull_request", "labeled")]),
        ("remove_label", [("pull_request", "unlabeled")]),
        ("remove_file", [("pull_request", "synchronize")]),
        ("close", [("pull_request", "closed")]),
        ("merge", [("pull_request", "closed"), ("push", None)]),
    ],
)
async def test_a_pr_activity_sends_its_event_in_githubs_shape(
    receiver: Receiver, action: str, expected: list[tuple[str, str | None]]
) -> None:
    async with hooked(receiver.url) as emulator:
        number = open_pr(emulator, labelled)
        labels_before = {label["name"] for label in pr_of(emulator, number)["labels"]}
        answer = await activity(emulator, action, number)
        pr = pr_of(emulator, number)
    assert receiver.events() == expected
    body = receiver.requests[0].payload
    pull_request = body["pull_request"]
    assert pull_request["number"] == number
    assert body.get("number", number) == number  # a review event has no top-level number
    assert ("number" in body) is (action != "add_review")
    assert body["repository"]["full_name"] == REPO
    assert body["repository"]["owner"]["login"] == body["organization"]["login"] == "acme"
    assert body["sender"]["login"] and body["sender"]["type"] in ("User", "Bot")
    assert pull_request["updated_at"] == answer["updatedAt"] == pr["updatedAt"]
    assert pull_request["head"]["sha"] == pr["headRefOid"]
    assert pull_request["state"] == ("open" if action not in ("close", "merge") else "closed")
    assert pull_request["merged"] is (action == "merge")
    if action == "add_review":
        review = body["review"]
        assert review["state"] in ("approved", "commented", "changes_requested")
        assert review["commit_id"] == pr["headRefOid"]
        assert review["submitted_at"] == pr["reviews"][-1]["submittedAt"]
    if action in ("add_label", "remove_label"):
        after = {label["name"] for label in pull_request["labels"]}
        assert {body["label"]["name"]} == after ^ labels_before
    if action == "merge":
        push = receiver.requests[1].payload
        assert push["ref"] == "refs/heads/main"
        assert push["after"] == pull_request["merge_commit_sha"] != push["before"]
        assert pull_request["merged_at"] == pull_request["closed_at"] == pr["mergedAt"]


async def test_a_push_sends_push_synchronize_and_its_new_check_runs(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        number = open_pr(emulator)
        before = head_sha(emulator, number)
        answer = await activity(emulator, "add_commit", number)
        after = head_sha(emulator, number)
    events = receiver.events()
    assert events[:2] == [("push", None), ("pull_request", "synchronize")]
    assert set(events[2:]) == {("check_run", "created")}
    push, synchronize = receiver.requests[0].payload, receiver.requests[1].payload
    assert (push["before"], push["after"]) == (before, after)
    assert push["ref"].startswith("refs/heads/") and push["commits"][-1]["id"] == after
    assert (synchronize["before"], synchronize["after"]) == (before, after)
    assert synchronize["pull_request"]["updated_at"] == answer["updatedAt"]
    for run in [r.payload["check_run"] for r in receiver.requests[2:]]:
        assert run["head_sha"] == after and run["status"] == "in_progress"
        assert [pr["number"] for pr in run["pull_requests"]] == [number]


async def test_open_sends_opened(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        answer = await activity(emulator, "open")
    first = receiver.requests[0].payload
    assert receiver.events()[0] == ("pull_request", "opened")
    assert first["number"] == answer["number"]
    assert first["pull_request"]["created_at"] == first["pull_request"]["updated_at"]
    assert first["pull_request"]["updated_at"] == answer["updatedAt"]


async def test_ci_activities_send_ci_events_and_never_move_the_pr(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        number = open_pr(emulator)
        await activity(emulator, "add_commit", number)  # its CI starts, running
        sha, updated = head_sha(emulator, number), pr_of(emulator, number)["updatedAt"]
        sent: dict[str, list[Received]] = {}
        for action in CI_ACTIONS:
            receiver.requests.clear()
            answer = await activity(emulator, action, number)
            assert answer["updatedAt"] == updated == pr_of(emulator, number)["updatedAt"]
            sent[action] = list(receiver.requests)
    for action, requests in sent.items():
        assert requests, action
        assert all(r.event in ("check_run", "check_suite", "status") for r in requests), action
        for got in requests:
            body = got.payload
            item = body.get(got.event, body)
            assert item.get("head_sha", item.get("sha")) == sha
            if got.event != "status":
                assert [pr["number"] for pr in item["pull_requests"]] == [number]
    assert [(r.event, r.payload["action"]) for r in sent["rerun_checks"]] == [
        ("check_run", "created")
    ]
    queued = [r.payload for r in sent["queue_checks"]]
    assert {(p["action"], p["check_run"]["status"]) for p in queued} == {("created", "queued")}
    (posted,) = [r.payload for r in sent["post_status"]]
    assert (posted["state"], posted["context"], posted["name"]) == ("pending", "ci/jenkins", REPO)
    finished = [(r.event, r.payload.get("action")) for r in sent["finish_checks"]]
    assert ("check_run", "completed") in finished and ("check_suite", "completed") in finished
    assert ("status", None) in finished
    assert set(finished) <= {
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("status", None),
    }
    for got in sent["finish_checks"]:
        if got.event != "status":
            item = got.payload[got.event]
            assert item["status"] == "completed" and item["conclusion"] in ("success", "failure")
        else:
            assert got.payload["state"] == "success"


async def test_hooks_never_get_requested_or_rerequested(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        number = open_pr(emulator)
        for action in ("add_commit", *CI_ACTIONS, "rerun_checks", "finish_checks", "open"):
            await activity(emulator, action, number)
    actions = {action for _, action in receiver.events()}
    assert "completed" in actions and "created" in actions
    assert not actions & {"requested", "rerequested"}


async def test_fork_heads_list_no_pull_requests(receiver: Receiver) -> None:
    async with hooked(receiver.url, webhook_fork_heads=True) as emulator:
        number = open_pr(emulator)
        await activity(emulator, "add_commit", number)
        await activity(emulator, "finish_checks", number)
        sha = head_sha(emulator, number)
    ci = [r.payload[r.event] for r in receiver.requests if r.event in ("check_run", "check_suite")]
    assert ci
    for item in ci:
        assert item["pull_requests"] == [] and item["head_sha"] == sha
    runs = [item for item in ci if "check_suite" in item]
    assert runs and all(run["check_suite"]["pull_requests"] == [] for run in runs)


async def test_redeliver_resends_the_same_guid_and_body(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        answer = await activity(emulator, "touch", open_pr(emulator))
        (sent,) = answer["deliveries"]
        status, again = await post(emulator, "redeliver", {"id": sent["id"]})
        missing, _ = await post(emulator, "redeliver", {"id": str(uuid.uuid4())})
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{emulator.url}/_emulator/deliveries") as listing,
        ):
            listed = await listing.json()
    assert status == 200 and again == {"id": sent["id"], "event": "pull_request", "status": 204}
    assert missing == 404
    first, second = receiver.requests
    assert second.delivery == first.delivery == sent["id"]
    assert second.body == first.body
    assert second.headers["X-Hub-Signature-256"] == first.headers["X-Hub-Signature-256"]
    assert listed == [sent]


async def test_a_failed_delivery_is_recorded_and_not_retried(receiver: Receiver) -> None:
    receiver.status = 500
    async with hooked(receiver.url) as emulator:
        answer = await activity(emulator, "touch", open_pr(emulator))
        assert [d["status"] for d in answer["deliveries"]] == [500]
        assert emulator.deliveries() == answer["deliveries"]
    assert len(receiver.requests) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_receiver_not_listening_is_recorded_as_no_status() -> None:
    async with hooked(f"http://127.0.0.1:{free_port()}/hook") as emulator:
        answer = await activity(emulator, "add_commit", open_pr(emulator))
    assert answer["deliveries"] and all(d["status"] is None for d in answer["deliveries"])


async def test_a_receiver_too_slow_times_out_once(receiver: Receiver) -> None:
    receiver.release = asyncio.Event()  # never answers while the emulator waits
    async with hooked(receiver.url, webhook_timeout=0.2) as emulator:
        answer = await activity(emulator, "touch", open_pr(emulator))
    assert [d["status"] for d in answer["deliveries"]] == [None]
    assert len(receiver.requests) == 1


async def test_no_webhook_url_sends_nothing(receiver: Receiver) -> None:
    async with hooked(None) as emulator:
        number = open_pr(emulator)
        for action in ("touch", "add_commit", "finish_checks"):
            assert (await activity(emulator, action, number))["deliveries"] == []
        missing, _ = await post(emulator, "redeliver", {"id": str(uuid.uuid4())})
    assert receiver.requests == [] and missing == 404


async def test_emulator_activity_from_another_thread_delivers(receiver: Receiver) -> None:
    async with hooked(receiver.url) as emulator:
        number = open_pr(emulator)
        with pytest.raises(RuntimeError):  # on the server's loop it cannot wait for the sends
            emulator.activity("touch", REPO, number)
        answer = await asyncio.to_thread(emulator.activity, "touch", REPO, number)
        direct = await emulator.activity_async("add_review", REPO, number)
    assert [d["event"] for d in answer["deliveries"] + direct["deliveries"]] == [
        "pull_request",
        "pull_request_review",
    ]
    assert receiver.events() == [("pull_request", "edited"), ("pull_request_review", "submitted")]
