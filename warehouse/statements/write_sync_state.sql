INSERT OR REPLACE INTO sync_state
    (repo, watermark, last_synced_at, status, cursor, pending_check_runs, error,
     window_since, window_until, session_id, page_size, depth_since, outcome_at)
VALUES ($repo, $watermark, $last_synced_at, $status, $cursor, $pending_check_runs, $error,
        $window_since, $window_until, $session_id, $page_size, $depth_since,
        $outcome_at);
