-- Per repository of $repos and for all together (repo null), per ISO week from $since to $now:
-- completed check runs (re-runs included) in the week they completed, and the failed share of
-- them, as weekly_repo_metrics.ci_failure_rate counts it. Weeks without runs are left out.
SELECT
    repo,
    CAST(date_trunc('week', timezone('UTC', coalesce(completed_at, started_at))) AS DATE) AS week,
    strftime(week, '%G-W%V') AS iso_week,
    count(*) AS runs,
    count(*) FILTER (WHERE outcome = 'FAILURE') / count(*) AS ci_failure_rate
FROM check_run_outcomes
WHERE list_contains($repos, repo)
  AND outcome <> 'PENDING'
  AND coalesce(completed_at, started_at) >= $since
  AND coalesce(completed_at, started_at) < $now
GROUP BY GROUPING SETS ((repo, week), (week))
ORDER BY repo NULLS FIRST, week;
