-- How the last run ended for a repository ($status, $error), now; the rest of its state (an
-- open session to resume, the watermark) stays as it is.
MERGE INTO sync_state
USING (
    SELECT $repo::VARCHAR AS repo, $status::VARCHAR AS status, $error::VARCHAR AS error,
        now() AS outcome_at
) AS new
USING (repo)
WHEN MATCHED THEN UPDATE SET status = new.status, error = new.error, outcome_at = new.outcome_at
WHEN NOT MATCHED THEN INSERT BY NAME;
