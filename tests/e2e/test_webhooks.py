"""Issue 19, GitHub's webhooks end to end: the emulator (an org of 4 repositories) posting its
signed deliveries, as GitHub does after each change, to `ghsync webhook serve`, which emits
Prefect events into a Prefect server; the `on-github-event` deployment of prefect.yaml, whose
trigger runs it per repository, and a worker.

After a first sync of the org (the `incremental` deployment):
- a label added to a PR of repo-1: that PR, and no other repository, is in the DuckDB file
  within a bounded time;
- CI re-run and finished on a merged PR of repo-2 (no PR update, and a closed PR is outside
  the open PRs' CI re-poll): its check runs are in the file, its PR row untouched;
- 20 changes to repo-3 within the trigger's window: one run, which sees all of them;
- a redelivery is answered and emitted no second time; unsigned, badly signed, oversized and
  malformed deliveries are refused and emit nothing;
- repo-4 is never synced again, and the secret appears in no log nor parameter.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, running_emulator
from ghsync.emulator.webhooks import sign
from tests.e2e.fan_out_stack import FINAL, until
from tests.e2e.prefect_stack import (
    BIN,
    ORG,
    TOKENS,
    Stack,
    deploy,
    free_port,
    prefect,
    start_server,
    start_worker,
)
from tests.integration.truth import ci_running, connect, differences

SECRET = "e2e-webhook-secret-7c1d"
REPO_PR, REPO_CI, REPO_BURST, REPO_QUIET = (f"{ORG}/repo-{n}" for n in range(1, 5))
BURST = 20
WINDOW_SECONDS = 30  # prefect.yaml: the trigger's `within`
BOUND_SECONDS = 240  # from the last delivery to every run finished (runs wait 45 s first)


@pytest.fixture
def receiver_port() -> int:
    return free_port()


@pytest.fixture
def emulator(receiver_port: int) -> Iterator[Emulator]:
    config = EmulatorConfig(
        repos=4,
        prs=20,
        tokens=TOKENS,
        webhook_url=f"http://127.0.0.1:{receiver_port}/webhook",
        webhook_secret=SECRET,
    )
    with running_emulator(config) as running:
        yield running


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def oversized(url: str) -> int:
    """The answer to a delivery that says it is 6 MiB: the receiver answers after the
    headers, so only the start of the body is sent (a client sending it all could meet a
    closed connection instead of the answer)."""
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("POST", address.path)
    for name, value in (("Content-Type", "application/json"), ("X-GitHub-Event", "push"),
                        ("X-GitHub-Delivery", str(uuid.uuid4())),
                        ("Content-Length", str(6 * 1024 * 1024))):  # fmt: skip
        connection.putheader(name, value)
    connection.endheaders(b"{" + b" " * 1024)
    status = connection.getresponse().status
    connection.close()
    return status


def refusals(url: str) -> dict[str, int]:
    """Deliveries the receiver must refuse, by what is wrong with them: their answers."""
    body = json.dumps({"action": "edited", "number": 1, "pull_request": {"number": 1},
                       "repository": {"full_name": REPO_QUIET}}).encode()  # fmt: skip

    def send(payload: bytes, signature: str | None) -> int:
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                   "X-GitHub-Delivery": str(uuid.uuid4())}  # fmt: skip
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return post(url, payload, headers)

    return {
        "no signature": send(body, None),
        "bad signature": send(body, "sha256=" + "0" * 64),
        "wrong secret": send(body, sign("not-the-secret", body)),
        "oversized": oversized(url),
        "malformed": send(b"{oops", sign(SECRET, b"{oops")),
    }


def webhook_runs(stack: Stack) -> list[dict[str, Any]]:
    body = {"deployments": {"name": {"any_": ["on-github-event"]}}}
    runs: list[dict[str, Any]] = stack.api("/flow_runs/filter", body)
    return runs


def github_events(stack: Stack) -> list[dict[str, Any]]:
    body = {"filter": {"event": {"prefix": ["github."]}}, "limit": 50}
    events: list[dict[str, Any]] = stack.api("/events/filter", body)["events"]
    return events


def pr_row(stack: Stack, repo: str, number: int) -> tuple[Any, ...]:
    with connect(stack.db) as connection:
        row = connection.execute(
            "SELECT updated_at, labels FROM pull_requests WHERE repo = ? AND number = ?",
            [repo, number],
        ).fetchone()
    assert row is not None
    return tuple(row)


def last_outcomes(stack: Stack) -> dict[str, Any]:
    """When each repository's last run ended (an unchanged one too)."""
    with connect(stack.db) as connection:
        rows = connection.execute("SELECT repo, outcome_at FROM sync_state").fetchall()
    return dict(rows)


def pick(emulator: Emulator, repo: str, state: str) -> int:
    """A PR in `state` whose head commit's CI has finished (nothing the sync re-polls by
    itself)."""
    truth = emulator.truth(repo)
    assert truth is not None
    settled = (pr for pr in truth["pullRequests"] if pr["checkRuns"] and not ci_running(pr))
    return int(next(pr["number"] for pr in settled if pr["state"] == state))


@pytest.mark.e2e
def test_webhook_deliveries_sync_just_their_repositories(
    tmp_path: Path, emulator: Emulator, receiver_port: int
) -> None:
    stack = Stack(tmp_path, tmp_path / "ghsync.duckdb")
    stack.emulator_url = emulator.url
    hook = f"http://127.0.0.1:{receiver_port}"
    try:
        start_server(stack, free_port())
        deploy(stack, orgs=[ORG])
        start_worker(stack)
        prefect(stack, "first sync", "deployment", "run", "sync-repos/incremental",
                "--param", "days_back=null", "--watch")  # fmt: skip
        started = time.monotonic()
        receiver_env = {**stack.env, "GITHUB_WEBHOOK_SECRET": SECRET}
        command = [str(BIN / "ghsync"), "webhook", "serve", "--port", str(receiver_port)]
        stack.start("receiver", command, receiver_env)
        stack.wait_for("receiver", "receiving GitHub webhooks", started)

        refused = refusals(f"{hook}/webhook")
        assert refused == {"no signature": 401, "bad signature": 401, "wrong secret": 401,
                           "oversized": 413, "malformed": 400}  # fmt: skip
        assert github_events(stack) == []
        ended_before = last_outcomes(stack)

        emulator.reset_stats()  # from here: what the webhook runs cost
        labeled = pick(emulator, REPO_PR, "OPEN")
        merged = pick(emulator, REPO_CI, "MERGED")
        ci_row_before = pr_row(stack, REPO_CI, merged)
        window_opened = time.monotonic()
        deliveries = emulator.activity("add_label", REPO_PR, labeled)["deliveries"]
        ci = [emulator.activity(action, REPO_CI, merged)["deliveries"]
              for action in ("rerun_checks", "finish_checks")]  # fmt: skip
        burst_truth = emulator.truth(REPO_BURST)
        assert burst_truth is not None
        numbers = [pr["number"] for pr in burst_truth["pullRequests"]][:BURST]
        burst = [emulator.activity("touch", REPO_BURST, n)["deliveries"] for n in numbers]
        assert time.monotonic() - window_opened < WINDOW_SECONDS  # all in the first window
        redelivered = urllib.request.Request(
            f"{emulator.url}/_emulator/redeliver",
            data=json.dumps({"id": deliveries[0]["id"]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(redelivered, timeout=10) as answer:
            assert json.loads(answer.read())["status"] == 200
        last_delivery = time.monotonic()

        sent = [d for group in (deliveries, *ci, *burst) for d in group]
        assert [d["event"] for d in deliveries] == ["pull_request"]
        ci_events = {d["event"] for group in ci for d in group}
        assert "check_run" in ci_events and ci_events <= {"check_run", "check_suite", "status"}
        assert len(burst) == BURST and all(d["status"] == 200 for d in sent)

        def all_finished() -> list[dict[str, Any]] | None:
            runs = webhook_runs(stack)
            repos = {run["parameters"]["repos"][0] for run in runs}
            done = all(run["state_type"] in FINAL for run in runs)
            return runs if done and repos == {REPO_PR, REPO_CI, REPO_BURST} else None

        runs = until("the webhook runs finished", all_finished, BOUND_SECONDS)
        stack.timings["last delivery to runs done"] = time.monotonic() - last_delivery
        assert all(run["state_type"] == "COMPLETED" for run in runs), runs
        cost = emulator.stats()
        ops = {k: v for k, v in cost["counters"].items() if k.startswith("op:")}
        print(f"the webhook runs asked GitHub {ops}, points {cost['points']}")
        per_repo = sorted(run["parameters"]["repos"][0] for run in runs)
        assert per_repo == [REPO_PR, REPO_CI, REPO_BURST]  # the burst too: one run
        events = github_events(stack)
        assert len(events) == len(sent)  # the redelivery is not among them
        assert len({event["payload"]["delivery"] for event in events}) == len(sent)

        for repo in (REPO_PR, REPO_CI, REPO_BURST):
            truth = emulator.truth(repo)
            assert truth is not None
            assert differences(stack.db, truth) == {}, repo
        labeled_truth = emulator.truth(REPO_PR)
        assert labeled_truth is not None
        pr = next(p for p in labeled_truth["pullRequests"] if p["number"] == labeled)
        assert sorted(pr_row(stack, REPO_PR, labeled)[1]) == sorted(pr["labels"])
        assert pr_row(stack, REPO_CI, merged) == ci_row_before  # CI moved no PR row
        ended_after = last_outcomes(stack)
        assert ended_after[REPO_QUIET] == ended_before[REPO_QUIET]  # not synced again
        assert all(ended_after[r] > ended_before[r] for r in (REPO_PR, REPO_CI, REPO_BURST))

        told = stack.log("receiver").read_text()  # a line per delivery
        assert all(f"delivery {d['id']}" in told for d in sent)
        logs = stack.api("/logs/filter", {"limit": 200})
        texts = [stack.log(name).read_text() for name in stack.processes]
        texts += [json.dumps(logs), json.dumps(runs)]
        assert not any(SECRET in text for text in texts)
    finally:
        stack.stop()
        print("\n".join(f"{step:>28}: {s:5.1f} s" for step, s in stack.timings.items()))
