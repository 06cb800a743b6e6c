-- Insert or replace rows of `repositories` (MERGE, not INSERT OR REPLACE: a DuckLake table has
-- no primary key to replace by).
MERGE INTO repositories
USING page_repositories AS page USING (repo)
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME;
