-- A template: $table is pull_requests or a child table. Deletes the rows of the accepted PRs
-- that are stored, so the page's rows replace them as a set (rows a PR lost disappear). DuckDB
-- builds the hash join on the page's few keys and pushes their repo and number range into the
-- scan of $table as a filter, so row groups outside it are skipped by their zonemaps.
DELETE FROM $table AS old
USING page_keys AS keys
WHERE keys.stored AND old.repo = keys.repo AND old.number = keys.number;
