"""ghsync: GitHub pull-request data into DuckDB, orchestrated by Prefect.

The public API that `flows/` imports from; everything else is internal. (The emulator, a test
and demo tool, is `ghsync.emulator`.)
"""

from ghsync.ci import PendingCheck, unsettled
from ghsync.config import DEFAULT_OPTIONS, Settings, SyncOptions
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
from ghsync.events import PageLoaded, Spent, SyncListener, listener, listening
from ghsync.fanout import DEFAULT_FAN_OUT, FanOut, batches, needs_run, recorded_outcome
from ghsync.filelock import file_lock, lock_path, presence, runs_path
from ghsync.github.apps import app_credentials, app_key
from ghsync.github.client import COST_LABEL, OWNER, GitHubClient
from ghsync.github.credentials import Credential
from ghsync.github.fetch import (
    CheckRunBatches,
    PrPage,
    RepoMeta,
    check_repos,
    complete_nested,
    fetch_pr_page,
    incomplete,
    list_org_repos,
    next_sizes,
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
from ghsync.interrupts import EXIT_CODE as INTERRUPTED_EXIT_CODE
from ghsync.interrupts import Interrupted, Interrupts
from ghsync.lake import Lake, Location, parse_location
from ghsync.log import RedactingFilter, mask_token, token_fingerprint
from ghsync.nodes import CommitChecks, PullRequestNode, head_commit_id
from ghsync.outcome import (
    RepoOutcome,
    outcome_line,
    summary_description,
    summary_markdown,
    total_line,
)
from ghsync.records import PageCounts, check_run_frames, map_repositories, page_frames
from ghsync.report import Report, headline_markdown, load_report, render_html, write_report
from ghsync.scoped import scoped
from ghsync.session import (
    advance_session,
    can_afford_checks,
    ci_due,
    ci_recheck_since,
    close_session,
    defer_ci,
    first_page_size,
    open_session,
    resume_session,
    settle_ci,
    start_session,
)
from ghsync.sql_files import list_examples
from ghsync.state import RepoStatus, SyncState
from ghsync.terminal import Display, display_for, new_log_file, route_logs
from ghsync.timestamps import parse_time
from ghsync.warehouse import Warehouse, check_writable
from ghsync.webhooks import MAX_BODY_BYTES, RECEIVER_LOGGER, Change, Kind, receiver
from ghsync.window import SyncWindow
from ghsync.writer import WarehouseWriter

__all__ = [
    "COST_LABEL",
    "DEFAULT_FAN_OUT",
    "DEFAULT_OPTIONS",
    "INTERRUPTED_EXIT_CODE",
    "MAX_BODY_BYTES",
    "OWNER",
    "RECEIVER_LOGGER",
    "AllTokensInvalid",
    "Change",
    "CheckRunBatches",
    "CommitChecks",
    "ConfigError",
    "Credential",
    "Display",
    "FanOut",
    "FatalError",
    "GhsyncError",
    "GitHubClient",
    "Interrupted",
    "Interrupts",
    "Kind",
    "Lake",
    "Location",
    "PageCounts",
    "PageLoaded",
    "PendingCheck",
    "PrPage",
    "PullRequestNode",
    "RedactingFilter",
    "RepoMeta",
    "RepoNotFound",
    "RepoOutcome",
    "RepoStatus",
    "Report",
    "ReposFailed",
    "RetriableError",
    "Settings",
    "Spent",
    "SyncListener",
    "SyncOptions",
    "SyncState",
    "SyncWindow",
    "TokenPool",
    "TokenState",
    "TokenStatus",
    "Warehouse",
    "WarehouseError",
    "WarehouseWriter",
    "advance_session",
    "app_credentials",
    "app_key",
    "batches",
    "can_afford_checks",
    "check_repos",
    "check_run_frames",
    "check_writable",
    "ci_due",
    "ci_recheck_since",
    "close_session",
    "complete_nested",
    "defer_ci",
    "display_for",
    "fetch_pr_page",
    "file_lock",
    "first_page_size",
    "head_commit_id",
    "headline_markdown",
    "incomplete",
    "list_examples",
    "list_org_repos",
    "listener",
    "listening",
    "load_report",
    "lock_path",
    "map_repositories",
    "mask_token",
    "needs_run",
    "new_log_file",
    "next_sizes",
    "open_session",
    "operation_version",
    "outcome_line",
    "page_frames",
    "parse_location",
    "parse_time",
    "parse_tokens",
    "presence",
    "receiver",
    "recorded_outcome",
    "render_html",
    "resume_session",
    "route_logs",
    "runs_path",
    "scoped",
    "settle_ci",
    "start_session",
    "summary_description",
    "summary_markdown",
    "token_fingerprint",
    "tokens_from_settings",
    "total_line",
    "unsettled",
    "validate_repo_names",
    "write_report",
]
