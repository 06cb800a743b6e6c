-- The PRs of a repository whose head commit is one of $shas: GitHub's CI webhooks named those
-- commits (checks re-run or finished), whatever the PR's state or age.
SELECT number, head_commit_id
FROM pull_requests
WHERE repo = $repo AND list_contains($shas, head_sha) AND head_commit_id IS NOT NULL
ORDER BY number;
