"""Opaque global node ids and cursors, shaped like GitHub's (prefix + base64 payload)."""

from __future__ import annotations

import base64
import json
from typing import Any

PREFIXES = {
    "User": "U",
    "Bot": "BOT",
    "Organization": "O",
    "Team": "T",
    "App": "A",
    "Repository": "R",
    "PullRequest": "PR",
    "PullRequestReview": "PRR",
    "PullRequestCommit": "PURC",
    "Commit": "C",
    "Label": "LA",
    "Milestone": "MI",
    "Issue": "I",
    "ReviewRequest": "RR",
    "CheckSuite": "CS",
    "CheckRun": "CR",
    "StatusContext": "SC",
    "Status": "SS",
}


def global_id(typename: str, database_id: int) -> str:
    """`PR_kwDOMTIz`-style id: the type's prefix and an opaque payload."""
    payload = base64.urlsafe_b64encode(f"{typename}:{database_id}".encode()).decode().rstrip("=")
    return f"{PREFIXES[typename]}_kwDO{payload}"


def encode_cursor(key: Any) -> str:
    """An opaque cursor holding an item's sort key (keyset pagination, like GitHub's v2)."""
    return base64.b64encode(b"cursor:v2:" + json.dumps(key).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    """The sort key inside a cursor; ValueError when it is not one of ours."""
    try:
        raw = base64.b64decode(cursor.encode(), validate=True)
    except ValueError as error:
        raise ValueError(f"`{cursor}` does not appear to be a valid cursor.") from error
    if not raw.startswith(b"cursor:v2:"):
        raise ValueError(f"`{cursor}` does not appear to be a valid cursor.")
    return json.loads(raw[len(b"cursor:v2:") :])
