SELECT count(*) AS row_count,
  sum(CASE WHEN member_key IS NULL THEN 1 ELSE 0 END) AS null_keys,
  count(DISTINCT member_key) AS distinct_keys,
  sum(CASE WHEN normalized THEN 1 ELSE 0 END) AS normalized_rows
FROM `_audsync_candidate_buyers`;

SELECT member_key, count(*) AS occurrences FROM `_audsync_candidate_buyers` WHERE member_key IS NOT NULL
GROUP BY member_key HAVING count(*) > 1 ORDER BY member_key LIMIT 3;
