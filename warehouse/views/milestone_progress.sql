-- Per repository and milestone: PRs open, merged, and closed without merging; merged_share is
-- merged / all PRs of the milestone.
CREATE OR REPLACE VIEW milestone_progress AS
SELECT
    repo,
    milestone,
    count(*) AS prs,
    count(*) FILTER (WHERE state = 'OPEN') AS open_prs,
    count(*) FILTER (WHERE merged_at IS NOT NULL) AS merged_prs,
    count(*) FILTER (WHERE state = 'CLOSED' AND merged_at IS NULL) AS closed_prs,
    count(*) FILTER (WHERE merged_at IS NOT NULL) / count(*) AS merged_share
FROM pull_requests
WHERE milestone IS NOT NULL
GROUP BY repo, milestone;
