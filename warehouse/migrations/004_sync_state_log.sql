-- 004: sync_state becomes a view of sync_state_log, where every write of a repository's state
-- is a new row (its `version` one more than the last) and nothing is updated in place. Many
-- processes write a DuckLake at once, and DuckLake refuses a commit that inserts into a table
-- another commit meanwhile deleted from: with every page's state replacing a row of one shared
-- table, syncs of different repositories on different machines refused each other's pages.
-- Appends never conflict. The view (warehouse/views/sync_state.sql) shows each repository's
-- newest row; the rows it hides are deleted after each sync (statements/prune_sync_state.sql).
CREATE TABLE sync_state_log (
    repo               VARCHAR NOT NULL,
    watermark          TIMESTAMPTZ,
    last_synced_at     TIMESTAMPTZ,
    status             VARCHAR,
    cursor             VARCHAR,
    pending_check_runs VARCHAR[],
    error              VARCHAR,
    window_since       TIMESTAMPTZ,
    window_until       TIMESTAMPTZ,
    session_id         VARCHAR,
    page_size          INTEGER,
    depth_since        TIMESTAMPTZ,
    outcome_at         TIMESTAMPTZ,
    version            BIGINT NOT NULL  -- 1, 2, ... per repository: the newest row is its state
);
INSERT INTO sync_state_log BY NAME SELECT *, 1 AS version FROM sync_state;
DROP TABLE sync_state;
