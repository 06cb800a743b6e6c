-- The PRs whose check runs and statuses a deferred check fetch replaces (`page_check_targets`).
-- Each counts as stored, so its rows are always deleted first (deferred checks belong to PRs
-- whose page was loaded earlier; page_keys.sql relies on child rows only existing for those).
CREATE OR REPLACE TEMP TABLE page_keys AS
SELECT DISTINCT repo, number, true AS stored FROM page_check_targets;
