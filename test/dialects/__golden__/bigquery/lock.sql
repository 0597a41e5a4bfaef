DELETE FROM `acme-dwh`.`audsync`.audsync_locks WHERE sync_id = 'buyers__meta' AND expires_at < TIMESTAMP '2026-03-01 10:00:00.000+00:00';

SELECT run_id, holder FROM `acme-dwh`.`audsync`.audsync_locks WHERE sync_id = 'buyers__meta';

MERGE INTO `acme-dwh`.`audsync`.audsync_locks AS t
USING (
  (SELECT `sync_id`, `run_id`, `holder`, `acquired_at`, `expires_at` FROM `acme-dwh`.`audsync`.audsync_locks LIMIT 0)
  UNION ALL
  (SELECT 'buyers__meta', 'run-1', 'host:1234', TIMESTAMP '2026-03-01 10:00:00.000+00:00', TIMESTAMP '2026-03-01 10:10:00.000+00:00')
) AS s
ON t.`sync_id` = s.`sync_id`
WHEN NOT MATCHED THEN INSERT (`sync_id`, `run_id`, `holder`, `acquired_at`, `expires_at`) VALUES (s.`sync_id`, s.`run_id`, s.`holder`, s.`acquired_at`, s.`expires_at`);

SELECT run_id, holder FROM `acme-dwh`.`audsync`.audsync_locks WHERE sync_id = 'buyers__meta';

DELETE FROM `acme-dwh`.`audsync`.audsync_locks WHERE sync_id = 'buyers__meta' AND run_id = 'run-1';
