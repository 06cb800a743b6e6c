INSERT OR REPLACE INTO sync_state
    (repo, watermark, last_synced_at, status, cursor, pending_check_runs, error,
     window_since, window_until, session_id, page_size, depth_since, outcome_at)
VALUES ($repo, $watermark, $last_synced_at, $status, $cursor,
        -- one string, split here: DuckDB binds a Python list element by element, trying to
        -- import pandas for each (a sync state with 150 pending commits took 12 ms to write)
        CASE WHEN $pending_check_runs = '' THEN []::VARCHAR[]
             ELSE string_split($pending_check_runs, ' ') END,
        $error,
        $window_since, $window_until, $session_id, $page_size, $depth_since,
        $outcome_at);
