"""Fixtures for the emulator's own tests: a server on loopback and a tiny HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest

from ghsync.emulator import Emulator, EmulatorConfig, running_emulator

TOKEN = "ghp_" + "a" * 36
OTHER = "ghp_" + "b" * 36


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def http(
    url: str, body: Any = None, token: str | None = TOKEN, method: str | None = None
) -> Answer:
    """One real HTTP request; HTTP errors are answers too."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Answer(answer.status, _lower(answer.headers.items()), answer.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers.items()), error.read().decode())


def _lower(items: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in items}


def sample(name: str) -> str:
    """A query shipped in ghsync/emulator/samples/."""
    return resources.files("ghsync.emulator").joinpath(f"samples/{name}.graphql").read_text()


def graphql(
    emulator: Emulator,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = TOKEN,
) -> Answer:
    return http(emulator.graphql_url, {"query": query, "variables": variables or {}}, token)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """A shared, read-mostly emulator: 2 repos of 60 PRs, two accounts."""
    config = EmulatorConfig(seed=3, repos=2, prs=60, tokens=(TOKEN, f"{OTHER}=bob"))
    with running_emulator(config) as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[Emulator]:
    """An emulator of its own, for tests that change budgets, faults or data."""
    config = EmulatorConfig(seed=5, repos=1, prs=30, tokens=(TOKEN, f"{OTHER}=bob"))
    with running_emulator(config) as running:
        yield running
