INSERT OR REPLACE INTO pull_requests BY NAME
SELECT page.* FROM page_pull_requests AS page SEMI JOIN page_keys USING (repo, number);
