-- The open PRs of $repos, not drafts, opened before $now and without a peer review yet, the
-- longest waiting first, with the hours they have waited at $now.
SELECT
    m.repo,
    m.number,
    p.title,
    m.author_login,
    m.created_at,
    (epoch($now) - epoch(m.created_at)) / 3600 AS hours_waiting
FROM pr_metrics AS m
JOIN pull_requests AS p USING (repo, number)
WHERE list_contains($repos, m.repo)
  AND m.state = 'OPEN'
  AND NOT m.is_draft
  AND m.first_review_hours IS NULL
  AND m.created_at < $now
ORDER BY m.created_at, m.repo, m.number;
