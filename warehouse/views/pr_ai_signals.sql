-- Evidence of AI involvement per PR, from the rules in ai_rules (warehouse/ai_rules.csv):
--   coauthor: a `Co-authored-by:` trailer (PR body or a commit message) containing the pattern,
--             e.g. an assistant's name or noreply address (case-insensitive);
--   author:   the PR's or a commit's author login equals the pattern (a `[bot]` suffix ignored);
--   marker:   the PR body or a commit message contains the pattern (case-insensitive).
-- Each hit is named kind:tool, e.g. `coauthor:Claude`. PRs without evidence have no row.
CREATE OR REPLACE VIEW pr_ai_signals AS
WITH texts AS (
    SELECT repo, number, body AS text FROM pull_requests WHERE body IS NOT NULL
    UNION ALL
    SELECT repo, number, message FROM pr_commits WHERE message IS NOT NULL
),
trailers AS (
    SELECT repo, number,
        unnest(regexp_extract_all(text, '(?im)^[ \t]*co-authored-by:[ \t]*(.+?)\s*$', 1)) AS trailer
    FROM texts
),
logins AS (
    SELECT repo, number, author_login AS login FROM pull_requests WHERE author_login IS NOT NULL
    UNION ALL
    SELECT repo, number, author_login FROM pr_commits WHERE author_login IS NOT NULL
),
hits AS (
    SELECT t.repo, t.number, r.kind || ':' || r.tool AS signal
    FROM trailers AS t
    JOIN ai_rules AS r ON r.kind = 'coauthor' AND contains(lower(t.trailer), lower(r.pattern))
    UNION
    SELECT l.repo, l.number, r.kind || ':' || r.tool
    FROM logins AS l
    JOIN ai_rules AS r
        ON r.kind = 'author'
        AND lower(regexp_replace(l.login, '\[bot\]$', '')) = lower(r.pattern)
    UNION
    SELECT t.repo, t.number, r.kind || ':' || r.tool
    FROM texts AS t
    JOIN ai_rules AS r ON r.kind = 'marker' AND contains(lower(t.text), lower(r.pattern))
)
SELECT repo, number, list_sort(list_distinct(list(signal))) AS ai_signals
FROM hits
GROUP BY repo, number;
