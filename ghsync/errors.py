"""The exception tree of ghsync.

Every failure the library reports is one of these classes, carrying its context (repo, masked
token, reset time, path). Callers branch on the two halves:

    GhsyncError
    ├── RetriableError            worth another try, later or elsewhere
    │   ├── SecondaryRateLimited  GitHub's secondary limit outlasted the client's attempts
    │   ├── QueryTooHeavy         GitHub could not answer it whole: ask again smaller
    │   │   ├── ServerTimeout     502/504 or a timeout message
    │   │   └── ResourceLimited   200, partial data, "resource limits ... exceeded"
    │   ├── ServerError           other 5xx or a malformed answer
    │   ├── ConnectionFailed      no answer (refused, dropped, reset)
    │   └── SourceChanged         an object vanished between two requests of one fetch
    └── FatalError                another try gives the same answer: stop and say why
        ├── ConfigError           bad settings or input (no token, bad repo name, bad URL)
        ├── TokensExhausted       every token parked past max_wait; carries reset_at
        ├── AllTokensInvalid      every token answered 401
        ├── AccessDenied          GitHub refuses a target (repo, org, node); carries it
        │   ├── RepoNotFound      NOT_FOUND: unknown, or invisible to the tokens
        │   ├── RepoForbidden     FORBIDDEN: e.g. an App token without access
        │   └── InsufficientScopes  INSUFFICIENT_SCOPES: the token lacks a scope
        ├── QueryRejected         any other GraphQL error (a bad query or argument)
        ├── ReposFailed           a sync finished, but some repositories failed; names them
        └── WarehouseError        the DuckDB file or DuckLake failed; carries its location
            ├── DatabaseLocked    another process holds the file's write lock
            ├── DatabaseCorrupt   the file is not a (readable) DuckDB database
            ├── DatabasePathError the file cannot be created or opened there
            ├── LakeUnreachable   the DuckLake's catalog cannot be reached
            └── WriteConflict     another DuckLake writer committed a conflicting change

Messages never contain a token: use `ghsync.log.mask_token` when one must be named. Every
error pickles (Prefect persists a failed run's exception) with its message and fields, the
GraphQL errors of the answer that caused it (`errors`) included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ghsync.lake import Lake

GraphQLErrors = tuple[Mapping[str, Any], ...]
"""An answer's `errors`, as GitHub sent them."""


class GhsyncError(Exception):
    """Base of every ghsync error."""

    errors: GraphQLErrors = ()
    """The GraphQL errors of the answer that caused it, when one did."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling `__init__` (whose parameters are not `args`): the message
        as `args`, the fields as the state (as dlt's DltException does)."""
        return type(self).__new__, (type(self), *self.args), self.__dict__


class RetriableError(GhsyncError):
    """A failure that another attempt (after a wait, or with another token) may fix."""


class FatalError(GhsyncError):
    """A failure that retrying cannot fix."""


class ConfigError(FatalError):
    """Bad configuration or user input, detected before any work is done."""


# --- GitHub client -------------------------------------------------------------------------


class SecondaryRateLimited(RetriableError):
    """GitHub's secondary limit kept answering after the client's bounded attempts."""

    def __init__(self, token_mask: str, retry_after: float | None) -> None:
        wait = f"retry-after {retry_after:g} s" if retry_after is not None else "no retry-after"
        super().__init__(f"secondary rate limit for token {token_mask} ({wait}); try later")
        self.token_mask = token_mask
        self.retry_after = retry_after


class QueryTooHeavy(RetriableError):
    """GitHub could not answer a query this heavy: ask again with a smaller page or batch."""

    reason = "could not answer the query whole"

    def __init__(
        self, operation: str, page_size: int | None, errors: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        hint = f"; retry with first: {max(1, page_size // 2)}" if page_size else ""
        super().__init__(f"{operation}: GitHub {self.reason}{hint}")
        self.operation = operation
        self.page_size = page_size
        self.errors = tuple(errors)

    @property
    def smaller_page_size(self) -> int | None:
        """Half the page size that was too heavy (at least 1), or None when the query has none."""
        return max(1, self.page_size // 2) if self.page_size else None


class ServerTimeout(QueryTooHeavy):
    """GitHub timed out (502/504)."""

    reason = "timed out computing the answer"


class ResourceLimited(QueryTooHeavy):
    """GitHub answered part of the query: it exceeded the resource limits (since 2025-09;
    HTTP 200, some fields null). The nulls are not data: the answer is dropped."""

    reason = (
        "answered only part of it: the query exceeded GitHub's resource limits"
        " (the partial answer was dropped)"
    )


class ServerError(RetriableError):
    """GitHub answered 5xx (not a timeout) or an answer that is not GraphQL."""

    def __init__(
        self, operation: str, status: int, detail: str, errors: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        super().__init__(f"{operation}: GitHub answered HTTP {status}: {detail}")
        self.operation = operation
        self.status = status
        self.errors = tuple(errors)


class ConnectionFailed(RetriableError):
    """No answer from GitHub: connection refused, dropped or reset."""

    def __init__(self, operation: str, url: str, detail: str) -> None:
        super().__init__(f"{operation}: no answer from {url}: {detail}")
        self.operation = operation
        self.url = url


class TokensExhausted(FatalError):
    """Every usable token is rate limited until later than the configured maximum wait."""

    def __init__(self, reset_at: datetime, token_masks: list[str]) -> None:
        super().__init__(
            f"all tokens ({', '.join(token_masks)}) are rate limited until "
            f"{reset_at.isoformat()}; finished pages are kept, run again after that time"
        )
        self.reset_at = reset_at
        self.token_masks = token_masks


class AllTokensInvalid(FatalError):
    """Every configured token was rejected with 401 Bad credentials."""

    def __init__(self, token_masks: list[str]) -> None:
        super().__init__(
            f"every token was rejected by GitHub (401 Bad credentials): {', '.join(token_masks)};"
            " check GITHUB_TOKENS / GITHUB_TOKEN (and a GitHub App's installations)"
        )
        self.token_masks = token_masks


class CredentialLost(FatalError):
    """A credential can no longer authenticate anything (an app uninstalled): drop it."""


class Unreachable(FatalError):
    """No configured credential can read an owner's repositories (every one of them is an app
    installation on other accounts)."""

    def __init__(self, owner: str, token_masks: list[str]) -> None:
        super().__init__(
            f"no credential can read {owner}'s repositories ({', '.join(token_masks)}): "
            f"install the GitHub App on {owner}, or add a personal token (GITHUB_TOKENS)"
        )
        self.owner, self.token_masks = owner, token_masks


class AccessDenied(FatalError):
    """GitHub refuses a target (repository, organization or node); retrying will not help."""

    reason = "is not accessible"

    def __init__(self, target: str, detail: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(f"{target} {self.reason}: {detail}")
        self.target = target
        self.errors = tuple(errors)


class RepoNotFound(AccessDenied):
    """NOT_FOUND: the repository does not exist or the tokens cannot see it."""

    reason = "was not found (or is invisible to the configured tokens)"


class RepoForbidden(AccessDenied):
    """FORBIDDEN: the token may not read this target (e.g. an App without access)."""

    reason = "is forbidden to the configured tokens"


class InsufficientScopes(AccessDenied):
    """INSUFFICIENT_SCOPES: the token lacks an OAuth scope the query needs."""

    reason = "needs scopes the token does not have"


class QueryRejected(FatalError):
    """GitHub rejected the query itself (a bad argument or field): a bug, not a condition."""

    def __init__(
        self, operation: str, detail: str, errors: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        super().__init__(f"{operation} was rejected by GitHub: {detail}")
        self.operation = operation
        self.errors = tuple(errors)


# --- Warehouse -----------------------------------------------------------------------------


class WarehouseError(FatalError):
    """The DuckDB warehouse failed; nothing of the failed operation was written."""

    hint = ""

    def __init__(self, path: Path | Lake, detail: str) -> None:
        hint = f"; {self.hint}" if self.hint else ""
        super().__init__(f"warehouse {path}: {detail}{hint}")
        self.path = path
        self.detail = detail


class DatabaseLocked(WarehouseError):
    """Another process (a running sync, a DuckDB CLI) holds the file's write lock."""

    hint = "another process is using it: wait for it to finish, or stop it"

    @property
    def holder(self) -> str:
        """The holding program as DuckDB names it (`/usr/bin/duckdb (PID 41)`), if it does."""
        named = re.search(r"held in (.+? \(PID \d+\))", self.detail)
        return named.group(1) if named else "another process"


class DatabaseCorrupt(WarehouseError):
    """The file is not a DuckDB database, or its blocks fail their checksums."""

    hint = "restore it from a backup, or move it away and sync again"


class DatabasePathError(WarehouseError):
    """The file cannot be created or opened: missing directory, no permission, read-only."""

    hint = "check the path (GHSYNC_DB or --db), that its directory exists and is writable"


class LakeUnreachable(WarehouseError):
    """The DuckLake's catalog database cannot be reached or refuses the connection."""

    hint = (
        "check GHSYNC_DB's catalog (host, port, dbname, user; the password from PGPASSWORD or "
        "~/.pgpass) and that its server is running"
    )


class WriteConflict(WarehouseError):
    """Another process committed a change this transaction conflicts with (DuckLake's
    optimistic concurrency); the writer retries it."""


class SourceChanged(RetriableError):
    """GitHub stopped answering for an object mid-fetch (deleted or transferred meanwhile)."""

    def __init__(self, node_id: str, what: str) -> None:
        super().__init__(f"{node_id} vanished while its {what} were fetched; sync again")
        self.node_id = node_id


class ReposFailed(FatalError):
    """A sync ran to the end, but these repositories failed (repo -> reason)."""

    def __init__(self, failures: dict[str, str]) -> None:
        listed = "; ".join(
            reason if reason.startswith(repo) else f"{repo}: {reason}"
            for repo, reason in failures.items()
        )
        super().__init__(
            f"{len(failures)} repositor{'y' if len(failures) == 1 else 'ies'} failed: {listed}"
        )
        self.failures = failures
