-- 001: the tables of the contract in DESIGN.md (names fixed; columns may be added by later
-- migrations). `repo` is owner/name; every timestamp is TIMESTAMPTZ in UTC.

CREATE TABLE repositories (
    repo        VARCHAR PRIMARY KEY,
    repo_id     VARCHAR,          -- GraphQL node id
    is_archived BOOLEAN,
    pushed_at   TIMESTAMPTZ,
    synced_at   TIMESTAMPTZ
);

CREATE TABLE pull_requests (
    repo                VARCHAR NOT NULL,
    number              INTEGER NOT NULL,
    pr_id               VARCHAR,  -- GraphQL node id
    database_id         BIGINT,
    title               VARCHAR,
    body                VARCHAR,
    state               VARCHAR,  -- OPEN, CLOSED, MERGED
    is_draft            BOOLEAN,
    author_login        VARCHAR,  -- null for a deleted account ("ghost")
    author_type         VARCHAR,  -- User, Bot, Mannequin, ...
    created_at          TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ,
    closed_at           TIMESTAMPTZ,
    merged_at           TIMESTAMPTZ,
    additions           INTEGER,
    deletions           INTEGER,
    changed_files       INTEGER,
    base_ref            VARCHAR,
    head_ref            VARCHAR,
    head_sha            VARCHAR,
    milestone           VARCHAR,
    labels              VARCHAR[],
    assignees           VARCHAR[],
    linked_issues       INTEGER[],
    requested_reviewers VARCHAR[], -- logins; a team as org/team-slug
    PRIMARY KEY (repo, number)
);

-- Child tables: the rows of one PR are replaced as a set on every load of that PR.
CREATE TABLE pr_reviews (
    repo         VARCHAR NOT NULL,
    number       INTEGER NOT NULL,
    review_id    BIGINT,
    state        VARCHAR,         -- APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    author_login VARCHAR,
    submitted_at TIMESTAMPTZ      -- null while PENDING
);

CREATE TABLE pr_commits (
    repo         VARCHAR NOT NULL,
    number       INTEGER NOT NULL,
    sha          VARCHAR NOT NULL,
    author_login VARCHAR,         -- the GitHub user of the author email, when known
    author_email VARCHAR,
    author_name  VARCHAR,
    authored_at  TIMESTAMPTZ,
    committed_at TIMESTAMPTZ,
    message      VARCHAR
);

CREATE TABLE pr_files (
    repo        VARCHAR NOT NULL,
    number      INTEGER NOT NULL,
    path        VARCHAR NOT NULL,
    additions   INTEGER,
    deletions   INTEGER,
    change_type VARCHAR           -- ADDED, CHANGED, COPIED, DELETED, MODIFIED, RENAMED
);

-- Check runs and legacy commit statuses of each PR's head commit.
CREATE TABLE check_runs (
    repo         VARCHAR NOT NULL,
    number       INTEGER NOT NULL,
    head_sha     VARCHAR,
    check_run_id BIGINT,
    app          VARCHAR,         -- the GitHub App's name, e.g. "GitHub Actions"
    app_slug     VARCHAR,
    name         VARCHAR NOT NULL,
    status       VARCHAR,         -- QUEUED, IN_PROGRESS, COMPLETED, ...
    conclusion   VARCHAR,         -- SUCCESS, FAILURE, CANCELLED, ... (null until completed)
    started_at   TIMESTAMPTZ,
    completed_at TIMESTAMPTZ
);

CREATE TABLE commit_statuses (
    repo       VARCHAR NOT NULL,
    number     INTEGER NOT NULL,
    head_sha   VARCHAR,
    context    VARCHAR NOT NULL,
    state      VARCHAR,           -- ERROR, EXPECTED, FAILURE, PENDING, SUCCESS
    created_at TIMESTAMPTZ
);

-- Where each repository's sync stands; written in the same transaction as the page it follows.
CREATE TABLE sync_state (
    repo               VARCHAR PRIMARY KEY,
    watermark          TIMESTAMPTZ,  -- newest PR updatedAt fully synced
    last_synced_at     TIMESTAMPTZ,
    status             VARCHAR,      -- running, ok, failed
    cursor             VARCHAR,      -- where an unfinished run stopped
    pending_check_runs VARCHAR[],    -- head commit ids whose check runs are still to fetch
    error              VARCHAR
);

-- The AI-detection rules, reloaded from warehouse/ai_rules.csv by every migrate.
CREATE TABLE ai_rules (
    tool    VARCHAR NOT NULL,
    kind    VARCHAR NOT NULL CHECK (kind IN ('coauthor', 'author', 'marker')),
    pattern VARCHAR NOT NULL,
    note    VARCHAR
);
