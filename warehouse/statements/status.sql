-- `ghsync status`: where each repository's sync stands, and what the warehouse holds of it.
SELECT
    s.repo,
    s.status,
    s.watermark,
    s.last_synced_at,
    (SELECT count(*) FROM pull_requests p WHERE p.repo = s.repo) AS prs,
    (SELECT count(*) FROM pr_reviews r WHERE r.repo = s.repo) AS reviews,
    (SELECT count(*) FROM pr_commits c WHERE c.repo = s.repo) AS commits,
    (SELECT count(*) FROM pr_files f WHERE f.repo = s.repo) AS files,
    (SELECT count(*) FROM check_runs k WHERE k.repo = s.repo) AS check_runs,
    len(s.pending_check_runs) AS pending_check_runs,
    s.window_until IS NOT NULL AS session_open,
    s.error
FROM sync_state s
ORDER BY s.repo;
