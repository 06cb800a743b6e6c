-- Who carries the review load?
SELECT author_login, sum(reviews_given) AS reviews_given, sum(prs_opened) AS prs_opened,
       round(sum(reviews_given) / nullif(sum(prs_opened), 0), 2) AS reviews_per_pr_opened
FROM weekly_author_metrics
WHERE week >= current_date - INTERVAL 28 DAY
GROUP BY author_login
ORDER BY reviews_given DESC
LIMIT 10;
