-- Per repository and ISO week (Monday, UTC). PRs count in the week they were opened (opened,
-- first-review time, AI share) or merged (merged, cycle times); check runs in the week they
-- completed (or started, if not completed). Medians and p90 interpolate (quantile_cont).
CREATE OR REPLACE VIEW weekly_repo_metrics AS
WITH opened AS (
    SELECT
        repo,
        CAST(date_trunc('week', timezone('UTC', created_at)) AS DATE) AS week,
        count(*) AS prs_opened,
        median(first_review_hours) AS median_first_review_hours,
        avg(CAST(ai_assisted AS INTEGER)) AS ai_assisted_share
    FROM pr_metrics
    GROUP BY ALL
),
merged AS (
    SELECT
        repo,
        CAST(date_trunc('week', timezone('UTC', merged_at)) AS DATE) AS week,
        count(*) AS prs_merged,
        median(cycle_time_hours) AS median_cycle_time_hours,
        quantile_cont(cycle_time_hours, 0.9) AS p90_cycle_time_hours
    FROM pr_metrics
    WHERE merged_at IS NOT NULL
    GROUP BY ALL
),
ci AS (
    SELECT
        repo,
        CAST(date_trunc('week', timezone('UTC', coalesce(completed_at, started_at))) AS DATE)
            AS week,
        count(*) FILTER (WHERE outcome = 'FAILURE') / count(*) AS ci_failure_rate
    FROM check_run_outcomes
    WHERE outcome <> 'PENDING'
    GROUP BY ALL
),
weeks AS (
    SELECT repo, week FROM opened
    UNION
    SELECT repo, week FROM merged
    UNION
    SELECT repo, week FROM ci
)
SELECT
    w.repo,
    w.week,
    strftime(w.week, '%G-W%V') AS iso_week,
    coalesce(o.prs_opened, 0) AS prs_opened,
    coalesce(m.prs_merged, 0) AS prs_merged,
    m.median_cycle_time_hours,
    m.p90_cycle_time_hours,
    o.median_first_review_hours,
    ci.ci_failure_rate,
    o.ai_assisted_share
FROM weeks AS w
LEFT JOIN opened AS o USING (repo, week)
LEFT JOIN merged AS m USING (repo, week)
LEFT JOIN ci USING (repo, week);
