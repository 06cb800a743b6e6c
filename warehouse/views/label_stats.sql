-- Per repository and label: PRs carrying it, open and merged, median cycle time when merged.
CREATE OR REPLACE VIEW label_stats AS
SELECT
    m.repo,
    l.label,
    count(*) AS prs,
    count(*) FILTER (WHERE m.state = 'OPEN') AS open_prs,
    count(*) FILTER (WHERE m.merged_at IS NOT NULL) AS merged_prs,
    median(m.cycle_time_hours) AS median_cycle_time_hours
FROM pr_metrics AS m
JOIN (SELECT repo, number, unnest(labels) AS label FROM pull_requests) AS l USING (repo, number)
GROUP BY m.repo, l.label;
