-- A template: $table is pull_requests or a child table, page_$table the page's registered frame.
-- Every PR of the page was accepted (page_keys), so all its rows go in, without a join.
INSERT INTO $table BY NAME SELECT * FROM page_$table;
