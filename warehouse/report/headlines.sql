-- The headline figures per repository of $repos and for all together (repo null), over the 7
-- days before $now (the weekly views' conventions: a PR counts when it merged for the merged
-- count and cycle time, when it opened for the time to first review; a check run when it
-- completed), and the open PRs waiting for a first review at $now.
WITH prs AS (
    SELECT * FROM pr_metrics WHERE list_contains($repos, repo)
),
scopes AS (
    SELECT unnest(list_append($repos, NULL)) AS repo
),
merged AS (
    SELECT repo, count(*) AS prs_merged, median(cycle_time_hours) AS p50_cycle_time_hours
    FROM prs
    WHERE merged_at >= $now - INTERVAL 7 DAY AND merged_at < $now
    GROUP BY GROUPING SETS ((repo), ())
),
opened AS (
    SELECT repo, median(first_review_hours) AS p50_first_review_hours
    FROM prs
    WHERE created_at >= $now - INTERVAL 7 DAY AND created_at < $now
    GROUP BY GROUPING SETS ((repo), ())
),
ci AS (
    SELECT
        repo,
        count(*) FILTER (WHERE outcome = 'FAILURE') / nullif(count(*), 0) AS ci_failure_rate
    FROM check_run_outcomes
    WHERE list_contains($repos, repo)
      AND outcome <> 'PENDING'
      AND completed_at >= $now - INTERVAL 7 DAY
      AND completed_at < $now
    GROUP BY GROUPING SETS ((repo), ())
),
waiting AS (
    SELECT repo, count(*) AS open_prs_waiting
    FROM prs
    WHERE state = 'OPEN' AND NOT is_draft AND first_review_hours IS NULL AND created_at < $now
    GROUP BY GROUPING SETS ((repo), ())
)
SELECT
    s.repo,
    coalesce(m.prs_merged, 0) AS prs_merged,
    m.p50_cycle_time_hours,
    o.p50_first_review_hours,
    ci.ci_failure_rate,
    coalesce(w.open_prs_waiting, 0) AS open_prs_waiting
FROM scopes AS s
LEFT JOIN merged AS m ON m.repo IS NOT DISTINCT FROM s.repo
LEFT JOIN opened AS o ON o.repo IS NOT DISTINCT FROM s.repo
LEFT JOIN ci ON ci.repo IS NOT DISTINCT FROM s.repo
LEFT JOIN waiting AS w ON w.repo IS NOT DISTINCT FROM s.repo
ORDER BY s.repo NULLS FIRST;
