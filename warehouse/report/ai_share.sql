-- Per repository of $repos and for all together (repo null), per ISO week of merging from $since
-- to $now and AI tool (the tool of pr_metrics.ai_signals: `coauthor:Claude` -> Claude): the
-- merged PRs showing that tool and their share of the week's merged PRs. A PR with two tools
-- counts under both; weeks and tools without such a PR have no row.
WITH merged AS (
    SELECT
        repo,
        number,
        ai_signals,
        CAST(date_trunc('week', timezone('UTC', merged_at)) AS DATE) AS week
    FROM pr_metrics
    WHERE list_contains($repos, repo) AND merged_at >= $since AND merged_at < $now
),
totals AS (
    SELECT repo, week, count(*) AS merged_prs
    FROM merged
    GROUP BY GROUPING SETS ((repo, week), (week))
),
tools AS (
    SELECT DISTINCT repo, number, week, split_part(unnest(ai_signals), ':', 2) AS tool
    FROM merged
),
by_tool AS (
    SELECT repo, week, tool, count(*) AS ai_prs
    FROM tools
    GROUP BY GROUPING SETS ((repo, week, tool), (week, tool))
)
SELECT
    b.repo,
    b.week,
    strftime(b.week, '%G-W%V') AS iso_week,
    b.tool,
    b.ai_prs,
    t.merged_prs,
    b.ai_prs / t.merged_prs AS share
FROM by_tool AS b
JOIN totals AS t ON t.repo IS NOT DISTINCT FROM b.repo AND t.week = b.week
ORDER BY b.repo NULLS FIRST, b.week, b.tool;
