-- The flaky checks of $repos over the runs started from $since to $now: per repository, app and
-- check name, the head commits on which the check both failed and succeeded (ci_check_stats's
-- flaky_count, over the report's weeks only), with its runs and failed share of completed runs.
-- Only checks flaky at least once, the flakiest first.
WITH runs AS (
    SELECT
        *,
        bool_or(outcome = 'FAILURE') OVER per_commit
            AND bool_or(outcome = 'SUCCESS') OVER per_commit AS flaky_commit
    FROM check_run_outcomes
    WHERE list_contains($repos, repo) AND started_at >= $since AND started_at < $now
    WINDOW per_commit AS (PARTITION BY repo, app, name, head_sha)
)
SELECT
    repo,
    app,
    name,
    count(DISTINCT head_sha) FILTER (WHERE flaky_commit) AS flaky_commits,
    count(*) AS runs,
    count(*) FILTER (WHERE outcome = 'FAILURE')
        / nullif(count(*) FILTER (WHERE outcome <> 'PENDING'), 0) AS failure_rate
FROM runs
GROUP BY repo, app, name
HAVING flaky_commits > 0
ORDER BY flaky_commits DESC, failure_rate DESC, repo, app, name;
