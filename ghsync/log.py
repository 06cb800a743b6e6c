"""Logging helpers: token masking, fingerprints, and a filter that redacts known secrets."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

_ELLIPSIS = "…"


def mask_token(token: str) -> str:
    """Show a token the way GitHub's UI does: its prefix and last four characters only.

    `ghp_0123456789abcdef` -> `ghp_…cdef`; a token without a known prefix keeps none. A short
    token (8 characters or fewer after its prefix: an emulator's or a test's) would give away
    half of itself that way: it shows none of its text but the start of its fingerprint, which
    names its Prefect concurrency limit anyway (`ghp_aaaa` -> `ghp_…#<6 hex digits>`).
    """
    prefix = ""
    for known in ("github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
        if token.startswith(known):
            prefix = known
            break
    if len(token) - len(prefix) > 8:
        return f"{prefix}{_ELLIPSIS}{token[-4:]}"
    return f"{prefix}{_ELLIPSIS}#{token_fingerprint(token)[:6]}"


def token_fingerprint(token: str) -> str:
    """A stable, non-reversible name for a token (used in concurrency-limit names)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


class RedactingFilter(logging.Filter):
    """Replaces every known secret in a log record's rendered message by its mask.

    `secrets` is asked at each record: a credential that renews its token (an App
    installation's) names its new one from then on.
    """

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # arguments that do not fit: the handler reports that, as it would
        redacted = message
        for secret in sorted({s for s in self._secrets() if s}, key=len, reverse=True):
            redacted = redacted.replace(secret, mask_token(secret))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


@contextmanager
def redacting(secrets: Callable[[], Iterable[str]]) -> Iterator[RedactingFilter]:
    """For the block, every handler of every logger present when it starts (the root's, a log
    file's, Prefect's run loggers' API handler) redacts `secrets`: a record is filtered by the
    handlers it reaches, not by the loggers it propagates through."""
    redactor = RedactingFilter(secrets)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]  # fmt: skip
    handlers = {handler for logger in loggers for handler in logger.handlers}
    for handler in handlers:
        handler.addFilter(redactor)
    try:
        yield redactor
    finally:
        for handler in handlers:
            handler.removeFilter(redactor)


def get_logger(name: str) -> logging.Logger:
    """The library's loggers live under `ghsync.`."""
    return logging.getLogger(name if name.startswith("ghsync") else f"ghsync.{name}")
