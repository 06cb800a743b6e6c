-- Per assignee, across repositories: open PRs assigned (drafts counted apart too), in how many
-- repositories, and when the oldest of them was opened.
CREATE OR REPLACE VIEW assignee_load AS
SELECT
    assignee,
    count(*) AS open_prs,
    count(*) FILTER (WHERE is_draft) AS open_draft_prs,
    count(DISTINCT repo) AS repos,
    min(created_at) AS oldest_open_created_at
FROM (SELECT repo, is_draft, created_at, unnest(assignees) AS assignee
      FROM pull_requests WHERE state = 'OPEN')
GROUP BY assignee;
