-- One row per check run, with its outcome under the rules of GitHub's status rollup:
-- FAILURE for failure, cancelled, timed out, action required and startup failure; SUCCESS for
-- success, neutral and skipped; PENDING for anything not completed (or stale).
-- `is_latest` marks the newest run of each check on a commit: re-runs supersede older runs.
CREATE OR REPLACE VIEW check_run_outcomes AS
SELECT
    *,
    CASE
        WHEN status IS DISTINCT FROM 'COMPLETED' THEN 'PENDING'
        WHEN conclusion IN ('FAILURE', 'CANCELLED', 'TIMED_OUT', 'ACTION_REQUIRED', 'STARTUP_FAILURE')
            THEN 'FAILURE'
        WHEN conclusion IN ('SUCCESS', 'NEUTRAL', 'SKIPPED') THEN 'SUCCESS'
        ELSE 'PENDING'
    END AS outcome,
    epoch(completed_at) - epoch(started_at) AS duration_seconds,
    row_number() OVER (
        PARTITION BY repo, number, head_sha, app, name
        ORDER BY check_run_id DESC NULLS LAST, started_at DESC NULLS LAST
    ) = 1 AS is_latest
FROM check_runs;
