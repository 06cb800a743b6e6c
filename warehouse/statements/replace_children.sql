-- A template: $table is one of the child tables (a fixed list in ghsync/warehouse.py) and
-- page_$table the registered frame of the page. The stored rows of each accepted PR are
-- replaced by the page's rows, so rows the PR lost disappear.
DELETE FROM $table AS stored
USING page_keys AS keys
WHERE stored.repo = keys.repo AND stored.number = keys.number;

INSERT INTO $table BY NAME
SELECT page.* FROM page_$table AS page SEMI JOIN page_keys USING (repo, number);
