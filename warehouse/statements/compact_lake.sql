-- A DuckLake's upkeep after a sync (ghsync/warehouse.py `compact`): every page a sync loads is
-- a commit of its own, leaving small Parquet files (or rows inlined in the catalog). The
-- inlined rows go to files, adjacent small files are merged, and snapshots (with the files
-- only they used) are dropped after a day: a day of time travel is kept, and a reader of an
-- older snapshot never loses its files mid-query.
CALL ducklake_flush_inlined_data('lake');
CALL ducklake_merge_adjacent_files('lake');
CALL ducklake_expire_snapshots('lake', older_than => now() - INTERVAL 1 DAY);
CALL ducklake_cleanup_old_files('lake', older_than => now() - INTERVAL 1 DAY);
