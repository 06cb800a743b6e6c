-- `ghsync status`: every repository a run was asked for or the metadata check found (or those of
-- $repos, unless empty): how its last run ended and when, where its history stands, its open
-- session, its CI still to fetch or still running, and the rows held of it. `running` with no
-- live sync of this warehouse ($live false) was stopped or killed: shown as interrupted.
WITH known AS (SELECT repo FROM repositories UNION SELECT repo FROM sync_state)
SELECT
    k.repo,
    CASE
        WHEN s.status = 'running' AND NOT $live THEN 'interrupted'
        WHEN s.status = 'ok' THEN 'synced'  -- written before outcomes were recorded
        ELSE coalesce(s.status, 'never synced')
    END AS status,
    s.outcome_at,
    s.error,
    s.watermark,
    s.last_synced_at,
    coalesce(s.depth_since::VARCHAR, CASE WHEN s.watermark IS NOT NULL THEN 'all' END)
        AS history_since,
    r.synced_at AS checked_at,
    coalesce(s.session_id IS NOT NULL, false) AS session_open,
    coalesce(len(s.pending_check_runs), 0) AS ci_to_fetch,
    (SELECT count(DISTINCT c.number) FROM check_runs c
     WHERE c.repo = k.repo AND c.status <> 'COMPLETED') AS ci_running,
    (SELECT count(*) FROM pull_requests p WHERE p.repo = k.repo) AS prs,
    (SELECT count(*) FROM pr_reviews v WHERE v.repo = k.repo) AS reviews,
    (SELECT count(*) FROM pr_commits c WHERE c.repo = k.repo) AS commits,
    (SELECT count(*) FROM pr_files f WHERE f.repo = k.repo) AS files,
    (SELECT count(*) FROM check_runs c WHERE c.repo = k.repo) AS check_runs
FROM known k
LEFT JOIN repositories r USING (repo)
LEFT JOIN sync_state s USING (repo)
WHERE len($repos) = 0 OR list_contains($repos, k.repo)
ORDER BY k.repo;
