-- The PRs whose check runs and statuses a deferred check fetch replaces (`page_check_targets`).
CREATE OR REPLACE TEMP TABLE page_keys AS
SELECT DISTINCT repo, number FROM page_check_targets;
