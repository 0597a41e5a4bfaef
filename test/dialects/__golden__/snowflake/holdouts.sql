MERGE INTO ANALYTICS.audsync.audsync_holdouts AS t
USING (
  (SELECT model, member_key, "group", salt, assigned_at FROM ANALYTICS.audsync.audsync_holdouts LIMIT 0)
  UNION ALL
  (SELECT 'buyers', member_key, CASE WHEN held_out THEN 'control' ELSE 'treatment' END, 'spring-2026', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ)
FROM _audsync_candidate_buyers WHERE consented AND member_key IS NOT NULL)
) AS s
ON t.model = s.model AND t.salt = s.salt AND t.member_key = s.member_key
WHEN NOT MATCHED THEN INSERT (model, member_key, "group", salt, assigned_at) VALUES (s.model, s.member_key, s."group", s.salt, s.assigned_at);
