-- Which open PRs have waited longest for a first review?
SELECT repo, number, author_login, created_at,
       round(epoch(now() - created_at) / 3600) AS hours_waiting
FROM pr_metrics
WHERE state = 'OPEN' AND NOT is_draft AND first_review_hours IS NULL
ORDER BY created_at
LIMIT 10;
