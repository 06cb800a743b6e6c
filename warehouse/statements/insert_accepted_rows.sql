-- A template, as insert_page_rows.sql, for a page of which page_keys refused some PRs (a replayed
-- page older than the stored copy): only the rows of the accepted PRs go in.
INSERT INTO $table BY NAME
SELECT page.* FROM page_$table AS page SEMI JOIN page_keys USING (repo, number);
