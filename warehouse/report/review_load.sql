-- Per reviewer, per repository of $repos and for all together (repo null): peer reviews
-- submitted from $since to $now and the PRs they reviewed. The busiest reviewers first.
SELECT
    repo,
    author_login AS reviewer,
    count(*) AS reviews,
    count(DISTINCT (repo, number)) AS prs_reviewed
FROM peer_reviews
WHERE list_contains($repos, repo)
  AND author_login IS NOT NULL
  AND submitted_at >= $since
  AND submitted_at < $now
GROUP BY GROUPING SETS ((repo, author_login), (author_login))
ORDER BY repo NULLS FIRST, reviews DESC, reviewer;
