INSERT OR REPLACE INTO repositories BY NAME SELECT * FROM page_repositories;
