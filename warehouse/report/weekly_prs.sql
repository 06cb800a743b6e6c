-- Per repository of $repos and for all of them together (repo null), per ISO week (Monday, UTC)
-- from $since to $now: PRs opened and merged, cycle time (created -> merged) p50 and p90 of the
-- PRs merged, time to first peer review p50 and p90 of the PRs opened. The conventions of
-- weekly_repo_metrics (which has no p90 of first reviews and no rows across repositories).
-- Every week of the range has a row, with 0 PRs and null times when nothing happened.
WITH prs AS (
    SELECT
        *,
        CAST(date_trunc('week', timezone('UTC', created_at)) AS DATE) AS opened_week,
        CAST(date_trunc('week', timezone('UTC', merged_at)) AS DATE) AS merged_week
    FROM pr_metrics
    WHERE list_contains($repos, repo)
),
opened AS (
    SELECT
        repo,
        opened_week AS week,
        count(*) AS prs_opened,
        median(first_review_hours) AS p50_first_review_hours,
        quantile_cont(first_review_hours, 0.9) AS p90_first_review_hours
    FROM prs
    GROUP BY GROUPING SETS ((repo, opened_week), (opened_week))
),
merged AS (
    SELECT
        repo,
        merged_week AS week,
        count(*) AS prs_merged,
        median(cycle_time_hours) AS p50_cycle_time_hours,
        quantile_cont(cycle_time_hours, 0.9) AS p90_cycle_time_hours
    FROM prs
    WHERE merged_at IS NOT NULL
    GROUP BY GROUPING SETS ((repo, merged_week), (merged_week))
),
grid AS (
    SELECT s.repo, CAST(w.week AS DATE) AS week
    FROM (SELECT unnest(list_append($repos, NULL)) AS repo) AS s
    CROSS JOIN range(CAST($since AS DATE), CAST(timezone('UTC', $now) AS DATE) + 1, INTERVAL 7 DAY)
        AS w(week)
)
SELECT
    g.repo,
    g.week,
    strftime(g.week, '%G-W%V') AS iso_week,
    coalesce(o.prs_opened, 0) AS prs_opened,
    coalesce(m.prs_merged, 0) AS prs_merged,
    m.p50_cycle_time_hours,
    m.p90_cycle_time_hours,
    o.p50_first_review_hours,
    o.p90_first_review_hours
FROM grid AS g
LEFT JOIN opened AS o ON o.repo IS NOT DISTINCT FROM g.repo AND o.week = g.week
LEFT JOIN merged AS m ON m.repo IS NOT DISTINCT FROM g.repo AND m.week = g.week
ORDER BY g.repo NULLS FIRST, g.week;
