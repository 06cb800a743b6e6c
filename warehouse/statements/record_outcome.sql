-- How the last run ended for a repository ($status, $error), now; the rest of its state (an
-- open session to resume, the watermark) stays as it is.
INSERT INTO sync_state (repo, status, error, outcome_at)
VALUES ($repo, $status, $error, now())
ON CONFLICT (repo) DO UPDATE
SET status = excluded.status, error = excluded.error, outcome_at = excluded.outcome_at;
