-- How many of the target PRs (`page_check_targets`) the fetched check runs and statuses
-- (`page_check_runs`, `page_commit_statuses`) change: rows added, gone, or different.
WITH
old_runs AS (
    SELECT repo, number, head_sha, check_run_id, name, status, conclusion, started_at,
           completed_at
    FROM check_runs SEMI JOIN page_check_targets USING (repo, number)
),
new_runs AS (
    SELECT repo, number, head_sha, check_run_id, name, status, conclusion, started_at,
           completed_at
    FROM page_check_runs
),
old_statuses AS (
    SELECT repo, number, head_sha, context, state, created_at
    FROM commit_statuses SEMI JOIN page_check_targets USING (repo, number)
),
new_statuses AS (
    SELECT repo, number, head_sha, context, state, created_at FROM page_commit_statuses
),
changed AS (
    SELECT repo, number FROM (FROM old_runs EXCEPT ALL FROM new_runs)
    UNION SELECT repo, number FROM (FROM new_runs EXCEPT ALL FROM old_runs)
    UNION SELECT repo, number FROM (FROM old_statuses EXCEPT ALL FROM new_statuses)
    UNION SELECT repo, number FROM (FROM new_statuses EXCEPT ALL FROM old_statuses)
)
SELECT count(*) FROM changed;
