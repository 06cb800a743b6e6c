-- Submitted reviews by someone other than the PR's author (an author's own "review" is a reply,
-- not a review). Pending reviews (not submitted yet) are left out.
CREATE OR REPLACE VIEW peer_reviews AS
SELECT r.*
FROM pr_reviews AS r
JOIN pull_requests AS p USING (repo, number)
WHERE r.submitted_at IS NOT NULL
  AND r.author_login IS DISTINCT FROM p.author_login;
