-- The head commits of a repository's open PRs updated since $since: their checks may be
-- re-run without the PR's updated_at moving (the CI re-poll of every run).
SELECT number, head_commit_id
FROM pull_requests
WHERE repo = $repo AND state = 'OPEN' AND updated_at >= $since AND head_commit_id IS NOT NULL
ORDER BY number;
