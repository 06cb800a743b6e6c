-- The whole sync state of $repo, as its next version (sync_state_log: appended, never
-- replaced). Typed here: a NULL parameter has no type of its own.
INSERT INTO sync_state_log BY NAME
SELECT
    $repo::VARCHAR AS repo, $watermark::TIMESTAMPTZ AS watermark,
    $last_synced_at::TIMESTAMPTZ AS last_synced_at, $status::VARCHAR AS status,
    $cursor::VARCHAR AS cursor,
    -- one string, split here: DuckDB binds a Python list element by element, trying to
    -- import pandas for each (a sync state with 150 pending commits took 12 ms to write)
    CASE WHEN $pending_check_runs = '' THEN []::VARCHAR[]
         ELSE string_split($pending_check_runs, ' ') END AS pending_check_runs,
    $error::VARCHAR AS error, $window_since::TIMESTAMPTZ AS window_since,
    $window_until::TIMESTAMPTZ AS window_until, $session_id::VARCHAR AS session_id,
    $page_size::INTEGER AS page_size, $depth_since::TIMESTAMPTZ AS depth_since,
    $outcome_at::TIMESTAMPTZ AS outcome_at,
    (SELECT coalesce(max(version), 0) + 1 FROM sync_state_log WHERE repo = $repo) AS version;
