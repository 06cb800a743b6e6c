"""Every ghsync error survives a pickle round trip (Prefect persists a failed run's exception)
with its message, its fields and the GraphQL errors of the answer that caused it.

The classes are found by walking GhsyncError's subclasses and built from their `__init__`'s
annotations, so a new error class is covered without touching this file.
"""

from __future__ import annotations

import inspect
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import ghsync.errors
from ghsync.errors import GhsyncError
from ghsync.lake import Lake

GRAPHQL_ERRORS = ({"type": "NOT_FOUND", "path": ["repository"], "message": "Could not"},)
SAMPLES: dict[str, Any] = {
    "str": "acme/repo-1",
    "int": 50,
    "int | None": 20,
    "float | None": 7.5,
    "datetime": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "list[str]": ["ghp_…AAAA", "ghp_…BBBB"],
    "dict[str, str]": {"acme/repo-1": "timed out"},
    "Path": Path("/tmp/ghsync.duckdb"),
    "Path | Lake": Lake("postgres:dbname=lake host=pg", "/mnt/lake/"),
    "Sequence[Mapping[str, Any]]": GRAPHQL_ERRORS,
}


def subclasses(cls: type[GhsyncError]) -> list[type[GhsyncError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += subclasses(sub)
    return found


ERRORS = [c for c in subclasses(GhsyncError) if c.__module__ == ghsync.errors.__name__]


def instance(cls: type[GhsyncError]) -> GhsyncError:
    """`cls` built with a sample value for each parameter (by its annotation)."""
    if cls.__init__ is Exception.__init__:
        return cls("something failed")
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    annotations = [str(parameter.annotation) for parameter in parameters]  # as written
    missing = [a for a in annotations if a not in SAMPLES]
    assert not missing, f"{cls.__name__}: add a sample for {missing}"
    return cls(*(SAMPLES[annotation] for annotation in annotations))


def test_every_error_class_is_found() -> None:
    assert len(ERRORS) >= 20


@pytest.mark.parametrize("cls", ERRORS, ids=[c.__name__ for c in ERRORS])
def test_an_error_survives_a_pickle_round_trip(cls: type[GhsyncError]) -> None:
    error = instance(cls)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert str(copy) == str(error) and copy.args == error.args
    assert vars(copy) == vars(error)
    assert copy.errors == error.errors


def test_the_graphql_errors_stay_on_the_error() -> None:
    error = ghsync.errors.RepoNotFound("repository acme/nope", "Could not", GRAPHQL_ERRORS)
    assert pickle.loads(pickle.dumps(error)).errors == GRAPHQL_ERRORS
