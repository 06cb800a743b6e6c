-- The PRs of the page that may be written: new ones, and stored ones not newer than the page's
-- copy (a replayed older page must not roll a PR back). Their rows are replaced. `stored`: the
-- PR is stored already, so it has rows to delete first; a page of new PRs (a backfill) has none,
-- and ghsync/warehouse.py skips the deletes (page_keys_counts.sql).
CREATE OR REPLACE TEMP TABLE page_keys AS
SELECT page.repo, page.number, known.number IS NOT NULL AS stored
FROM page_pull_requests AS page
LEFT JOIN pull_requests AS known USING (repo, number)
WHERE known.updated_at IS NULL OR page.updated_at >= known.updated_at;
