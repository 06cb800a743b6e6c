"""ghsync: GitHub pull-request data into DuckDB, orchestrated by Prefect.

The public API that `flows/` imports from; everything else is internal. (The emulator, a test
and demo tool, is `ghsync.emulator`.)
"""

from ghsync.ci import PendingCheck, replace_pending, unsettled
from ghsync.config import Settings, check_sync_options
from ghsync.errors import (
    AllTokensInvalid,
    ConfigError,
    FatalError,
    GhsyncError,
    RepoNotFound,
    ReposFailed,
    RetriableError,
    WarehouseError,
)
from ghsync.filelock import file_lock, lock_path, presence, runs_path
from ghsync.github.client import COST_LABEL, GitHubClient
from ghsync.github.fetch import (
    PrPage,
    RepoMeta,
    check_repos,
    complete_nested,
    fetch_check_runs,
    fetch_pr_page,
    list_org_repos,
    validate_repo_names,
)
from ghsync.github.operations import operation_version
from ghsync.github.tokens import (
    TokenPool,
    TokenState,
    TokenStatus,
    parse_tokens,
    tokens_from_settings,
)
from ghsync.log import mask_token, token_fingerprint
from ghsync.nodes import CommitChecks, PullRequestNode, head_commit_id
from ghsync.records import PageCounts, check_run_frames, map_repositories, page_frames
from ghsync.sql_files import list_examples
from ghsync.tables import COUNTED
from ghsync.timestamps import parse_time
from ghsync.warehouse import RepoStatus, SyncState, Warehouse, check_writable
from ghsync.window import SyncWindow, plan_window, synced_depth
from ghsync.writer import WarehouseWriter

__all__ = [
    "COST_LABEL",
    "COUNTED",
    "AllTokensInvalid",
    "CommitChecks",
    "ConfigError",
    "FatalError",
    "GhsyncError",
    "GitHubClient",
    "PageCounts",
    "PendingCheck",
    "PrPage",
    "PullRequestNode",
    "RepoMeta",
    "RepoNotFound",
    "RepoStatus",
    "ReposFailed",
    "RetriableError",
    "Settings",
    "SyncState",
    "SyncWindow",
    "TokenPool",
    "TokenState",
    "TokenStatus",
    "Warehouse",
    "WarehouseError",
    "WarehouseWriter",
    "check_repos",
    "check_run_frames",
    "check_sync_options",
    "check_writable",
    "complete_nested",
    "fetch_check_runs",
    "fetch_pr_page",
    "file_lock",
    "head_commit_id",
    "list_examples",
    "list_org_repos",
    "lock_path",
    "map_repositories",
    "mask_token",
    "operation_version",
    "page_frames",
    "parse_time",
    "parse_tokens",
    "plan_window",
    "presence",
    "replace_pending",
    "runs_path",
    "synced_depth",
    "token_fingerprint",
    "tokens_from_settings",
    "unsettled",
    "validate_repo_names",
]
