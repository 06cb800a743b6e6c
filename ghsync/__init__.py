"""ghsync: GitHub pull-request data into DuckDB, orchestrated by Prefect.

The public API that `flows/` imports from; everything else is internal.
"""

from ghsync.config import Settings
from ghsync.errors import ConfigError, FatalError, GhsyncError, RetriableError
from ghsync.log import mask_token, token_fingerprint

__all__ = [
    "ConfigError",
    "FatalError",
    "GhsyncError",
    "RetriableError",
    "Settings",
    "mask_token",
    "token_fingerprint",
]
