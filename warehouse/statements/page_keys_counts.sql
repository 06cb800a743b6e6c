-- How many PRs `page_keys` accepted, and how many of those are stored already: ghsync/warehouse.py
-- skips the deletes when none is stored, and the join on page_keys when every PR was accepted.
SELECT count(*) AS accepted, count(*) FILTER (WHERE stored) AS stored FROM page_keys;
