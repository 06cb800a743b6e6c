-- `ghsync status`: every repository the metadata check has seen (checked_at: the last check,
-- whether or not anything had changed), where its sync stands, and the rows held of it.
SELECT
    r.repo,
    coalesce(s.status, 'never synced') AS status,
    s.watermark,
    s.last_synced_at,
    r.synced_at AS checked_at,
    (SELECT count(*) FROM pull_requests p WHERE p.repo = r.repo) AS prs,
    (SELECT count(*) FROM pr_reviews v WHERE v.repo = r.repo) AS reviews,
    (SELECT count(*) FROM pr_commits c WHERE c.repo = r.repo) AS commits,
    (SELECT count(*) FROM pr_files f WHERE f.repo = r.repo) AS files,
    (SELECT count(*) FROM check_runs k WHERE k.repo = r.repo) AS check_runs,
    coalesce(len(s.pending_check_runs), 0) AS pending_check_runs,
    coalesce(s.window_until IS NOT NULL OR s.window_since IS NOT NULL, false) AS session_open,
    s.error
FROM repositories r
LEFT JOIN sync_state s USING (repo)
ORDER BY r.repo;
