-- Per author login and ISO week (Monday, UTC), across repositories: PRs opened and merged in
-- the week, peer reviews given in the week, and the median cycle time of their PRs merged in it.
CREATE OR REPLACE VIEW weekly_author_metrics AS
WITH opened AS (
    SELECT
        author_login,
        CAST(date_trunc('week', timezone('UTC', created_at)) AS DATE) AS week,
        count(*) AS prs_opened
    FROM pr_metrics
    WHERE author_login IS NOT NULL
    GROUP BY ALL
),
merged AS (
    SELECT
        author_login,
        CAST(date_trunc('week', timezone('UTC', merged_at)) AS DATE) AS week,
        count(*) AS prs_merged,
        median(cycle_time_hours) AS median_cycle_time_hours
    FROM pr_metrics
    WHERE author_login IS NOT NULL AND merged_at IS NOT NULL
    GROUP BY ALL
),
reviews AS (
    SELECT
        author_login,
        CAST(date_trunc('week', timezone('UTC', submitted_at)) AS DATE) AS week,
        count(*) AS reviews_given
    FROM peer_reviews
    WHERE author_login IS NOT NULL
    GROUP BY ALL
),
weeks AS (
    SELECT author_login, week FROM opened
    UNION
    SELECT author_login, week FROM merged
    UNION
    SELECT author_login, week FROM reviews
)
SELECT
    w.author_login,
    w.week,
    strftime(w.week, '%G-W%V') AS iso_week,
    coalesce(o.prs_opened, 0) AS prs_opened,
    coalesce(m.prs_merged, 0) AS prs_merged,
    coalesce(r.reviews_given, 0) AS reviews_given,
    m.median_cycle_time_hours
FROM weeks AS w
LEFT JOIN opened AS o USING (author_login, week)
LEFT JOIN merged AS m USING (author_login, week)
LEFT JOIN reviews AS r USING (author_login, week);
