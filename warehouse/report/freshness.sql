-- How fresh each repository of $repos is: how its last sync ended and when, when it last
-- synced, the head commits whose CI the next sync fetches (ci_to_fetch, as `ghsync status`) and
-- its open PRs whose CI is not settled (ci_state PENDING).
SELECT
    r.repo,
    coalesce(s.status, 'never synced') AS status,
    s.outcome_at,
    s.last_synced_at,
    coalesce(len(s.pending_check_runs), 0) AS ci_to_fetch,
    (SELECT count(*) FROM pr_metrics AS m
     WHERE m.repo = r.repo AND m.state = 'OPEN' AND m.ci_state = 'PENDING') AS open_prs_ci_pending
FROM (SELECT unnest($repos) AS repo) AS r
LEFT JOIN sync_state AS s USING (repo)
ORDER BY r.repo;
