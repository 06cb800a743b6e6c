-- How the last run ended for a repository ($status, $error), now, as its state's next version;
-- the rest of its state (an open session to resume, the watermark) stays as it is.
INSERT INTO sync_state_log BY NAME
SELECT * REPLACE (
    $status::VARCHAR AS status, $error::VARCHAR AS error, now() AS outcome_at,
    version + 1 AS version
)
FROM sync_state_log
WHERE repo = $repo::VARCHAR
QUALIFY version = max(version) OVER ()
UNION ALL BY NAME
SELECT $repo::VARCHAR AS repo, $status::VARCHAR AS status, $error::VARCHAR AS error,
    now() AS outcome_at, 1::BIGINT AS version
WHERE NOT EXISTS (SELECT 1 FROM sync_state_log WHERE repo = $repo::VARCHAR);
