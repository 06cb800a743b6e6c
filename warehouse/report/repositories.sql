-- The repositories a report can show: every one a run was asked for, the metadata check found
-- or that holds PRs.
SELECT repo FROM sync_state
UNION
SELECT repo FROM repositories
UNION
SELECT repo FROM pull_requests
ORDER BY repo;
