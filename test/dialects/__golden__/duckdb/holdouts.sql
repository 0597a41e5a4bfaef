INSERT INTO "audsync"."audsync".audsync_holdouts ("model", "member_key", "group", "salt", "assigned_at")
SELECT 'buyers', member_key, CASE WHEN held_out THEN 'control' ELSE 'treatment' END, 'spring-2026', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP)
FROM "_audsync_candidate_buyers" WHERE consented AND member_key IS NOT NULL
ON CONFLICT DO NOTHING;
