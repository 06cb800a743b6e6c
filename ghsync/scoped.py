"""A context variable set for a block: what the code called inside it (tasks, requests) reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def scoped(variable: ContextVar[T], value: T) -> Iterator[None]:
    """`variable` is `value` inside the block (in this context), what it was after it."""
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)
