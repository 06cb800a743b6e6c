-- The ledger of applied migrations, and the digest of what the last migrate applied
-- (ghsync/sql_files.py `schema_digest`); both exist before any migration runs.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS schema_digest (id INTEGER NOT NULL, digest VARCHAR NOT NULL);
