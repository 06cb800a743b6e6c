-- The rows of sync_state_log its view hides (every repository's older versions).
DELETE FROM sync_state_log AS old
USING (SELECT repo, max(version) AS newest FROM sync_state_log GROUP BY repo) AS kept
WHERE old.repo = kept.repo AND old.version < kept.newest;
