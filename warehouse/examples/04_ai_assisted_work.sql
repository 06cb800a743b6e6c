-- How much of the merged work is AI-assisted, and by which tools?
SELECT coalesce(signal, '(none)') AS signal, count(*) AS merged_prs
FROM (SELECT unnest(CASE WHEN ai_assisted THEN ai_signals ELSE [NULL] END) AS signal
      FROM pr_metrics WHERE merged_at IS NOT NULL)
GROUP BY ALL
ORDER BY merged_prs DESC;
