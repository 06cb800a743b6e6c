-- One row per PR. Durations in hours; review figures count peer reviews only (see
-- peer_reviews); ci_state rolls up the newest run of each check and the statuses on the head
-- commit (any FAILURE wins, then any PENDING, else SUCCESS; null when there is no CI at all).
-- size_bucket by additions + deletions: XS < 10, S < 50, M < 250, L < 1000, XL >= 1000.
CREATE OR REPLACE VIEW pr_metrics AS
WITH review_stats AS (
    SELECT
        repo,
        number,
        count(*) FILTER (WHERE state = 'APPROVED') AS approvals,
        count(*) FILTER (WHERE state = 'CHANGES_REQUESTED') AS changes_requested,
        count(*) AS review_count,
        min(submitted_at) AS first_review_at
    FROM peer_reviews
    GROUP BY repo, number
),
commit_stats AS (
    SELECT repo, number, count(*) AS commits, min(authored_at) AS first_commit_at
    FROM pr_commits
    GROUP BY repo, number
),
file_stats AS (
    SELECT repo, number, count(*) AS files FROM pr_files GROUP BY repo, number
),
head_outcomes AS (
    SELECT c.repo, c.number, c.outcome
    FROM check_run_outcomes AS c
    JOIN pull_requests AS p ON p.repo = c.repo AND p.number = c.number AND p.head_sha = c.head_sha
    WHERE c.is_latest
    UNION ALL
    SELECT s.repo, s.number,
        CASE s.state
            WHEN 'SUCCESS' THEN 'SUCCESS'
            WHEN 'FAILURE' THEN 'FAILURE'
            WHEN 'ERROR' THEN 'FAILURE'
            ELSE 'PENDING'
        END
    FROM commit_statuses AS s
    JOIN pull_requests AS p ON p.repo = s.repo AND p.number = s.number AND p.head_sha = s.head_sha
),
ci AS (
    SELECT
        repo,
        number,
        CASE
            WHEN bool_or(outcome = 'FAILURE') THEN 'FAILURE'
            WHEN bool_or(outcome = 'PENDING') THEN 'PENDING'
            ELSE 'SUCCESS'
        END AS ci_state
    FROM head_outcomes
    GROUP BY repo, number
)
SELECT
    p.repo,
    p.number,
    p.author_login,
    p.state,
    p.is_draft,
    p.created_at,
    p.merged_at,
    (epoch(p.merged_at) - epoch(p.created_at)) / 3600 AS cycle_time_hours,
    -- 0 when the first commit was authored after the PR was opened
    CASE
        WHEN c.first_commit_at IS NOT NULL
            THEN greatest(epoch(p.created_at) - epoch(c.first_commit_at), 0) / 3600
    END AS coding_time_hours,
    (epoch(r.first_review_at) - epoch(p.created_at)) / 3600 AS first_review_hours,
    coalesce(r.approvals, 0) AS approvals,
    coalesce(r.changes_requested, 0) AS changes_requested,
    coalesce(r.review_count, 0) AS review_count,
    coalesce(c.commits, 0) AS commits,
    coalesce(f.files, 0) AS files,
    p.additions,
    p.deletions,
    CASE
        WHEN p.additions + p.deletions < 10 THEN 'XS'
        WHEN p.additions + p.deletions < 50 THEN 'S'
        WHEN p.additions + p.deletions < 250 THEN 'M'
        WHEN p.additions + p.deletions < 1000 THEN 'L'
        WHEN p.additions + p.deletions >= 1000 THEN 'XL'
    END AS size_bucket,
    ci.ci_state,
    a.ai_signals IS NOT NULL AS ai_assisted,
    coalesce(a.ai_signals, []::VARCHAR[]) AS ai_signals
FROM pull_requests AS p
LEFT JOIN review_stats AS r USING (repo, number)
LEFT JOIN commit_stats AS c USING (repo, number)
LEFT JOIN file_stats AS f USING (repo, number)
LEFT JOIN ci USING (repo, number)
LEFT JOIN pr_ai_signals AS a USING (repo, number);
