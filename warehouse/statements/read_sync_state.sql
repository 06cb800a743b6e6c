SELECT repo, watermark, last_synced_at, status, cursor, pending_check_runs, error,
       window_since, window_until, session_id, page_size, depth_since, outcome_at
FROM sync_state
WHERE repo = $repo;
