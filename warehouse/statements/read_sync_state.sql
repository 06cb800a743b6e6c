SELECT repo, watermark, last_synced_at, status, cursor, pending_check_runs, error
FROM sync_state
WHERE repo = $repo;
