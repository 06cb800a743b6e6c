-- How many Parquet files (data and deletes) the current snapshot of a DuckLake reads.
SELECT coalesce(sum(file_count + delete_file_count), 0)::BIGINT AS files
FROM ducklake_table_info('lake');
