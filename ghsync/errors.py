"""The exception tree of ghsync.

Every failure the library reports is one of these classes, carrying its context (repo, masked
token, reset time, path). Callers branch on the two halves:

    GhsyncError
    ├── RetriableError            worth another try, later or elsewhere
    │   └── (client: SecondaryRateLimited, ServerTimeout, ServerError, ConnectionFailed, ...)
    └── FatalError                another try gives the same answer: stop and say why
        ├── ConfigError           bad settings or input (no token, bad repo name, bad URL)
        └── (client: TokensExhausted, AllTokensInvalid, RepoNotFound, RepoForbidden, ...;
             warehouse: DatabaseLocked, DatabaseCorrupt, ...)

Messages never contain a token: use `ghsync.log.mask_token` when one must be named.
"""

from __future__ import annotations


class GhsyncError(Exception):
    """Base of every ghsync error."""


class RetriableError(GhsyncError):
    """A failure that another attempt (after a wait, or with another token) may fix."""


class FatalError(GhsyncError):
    """A failure that retrying cannot fix."""


class ConfigError(FatalError):
    """Bad configuration or user input, detected before any work is done."""
