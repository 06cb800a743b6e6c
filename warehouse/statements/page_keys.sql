-- The PRs of the page that may be written: new ones, and stored ones not newer than the page's
-- copy (a replayed older page must not roll a PR back). Their child rows are replaced.
CREATE OR REPLACE TEMP TABLE page_keys AS
SELECT page.repo, page.number
FROM page_pull_requests AS page
LEFT JOIN pull_requests AS stored USING (repo, number)
WHERE stored.updated_at IS NULL OR page.updated_at >= stored.updated_at;
