-- Where each repository's sync stands (DESIGN.md's `sync_state`): the newest row of
-- sync_state_log per repository (migration 004 says why it is a log).
CREATE OR REPLACE VIEW sync_state AS
SELECT * EXCLUDE (version)
FROM sync_state_log
QUALIFY version = max(version) OVER (PARTITION BY repo);
