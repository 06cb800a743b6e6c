-- The digest of what this migrate applied (one row).
MERGE INTO schema_digest
USING (SELECT 1 AS id, $digest::VARCHAR AS digest) AS new USING (id)
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME;
