-- How fast do PRs get merged, week by week?
SELECT repo, iso_week, prs_opened, prs_merged,
       round(median_cycle_time_hours, 1) AS median_cycle_h,
       round(p90_cycle_time_hours, 1) AS p90_cycle_h,
       round(median_first_review_hours, 1) AS median_first_review_h
FROM weekly_repo_metrics
ORDER BY repo, week DESC;
