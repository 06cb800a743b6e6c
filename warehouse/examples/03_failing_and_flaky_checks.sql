-- Which CI checks fail most, and which are flaky?
SELECT repo, app, name, runs, round(failure_rate, 3) AS failure_rate,
       median_duration_seconds, flaky_count
FROM ci_check_stats
WHERE runs >= 5
ORDER BY flaky_count DESC, failure_rate DESC
LIMIT 10;
