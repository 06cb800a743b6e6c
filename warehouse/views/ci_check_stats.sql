-- Per repository, app and check name, over every stored run (re-runs included). failure_rate is
-- over completed runs; a flaky commit is a head commit on which this check both failed and
-- succeeded (typically a failure fixed by a re-run).
CREATE OR REPLACE VIEW ci_check_stats AS
WITH runs AS (
    SELECT
        *,
        bool_or(outcome = 'FAILURE') OVER per_commit
            AND bool_or(outcome = 'SUCCESS') OVER per_commit AS flaky_commit
    FROM check_run_outcomes
    WINDOW per_commit AS (PARTITION BY repo, app, name, head_sha)
)
SELECT
    repo,
    app,
    name,
    count(*) AS runs,
    count(*) FILTER (WHERE outcome = 'FAILURE') AS failures,
    count(*) FILTER (WHERE outcome = 'FAILURE')
        / nullif(count(*) FILTER (WHERE outcome <> 'PENDING'), 0) AS failure_rate,
    median(duration_seconds) AS median_duration_seconds,
    count(DISTINCT head_sha) FILTER (WHERE flaky_commit) AS flaky_count
FROM runs
GROUP BY repo, app, name;
