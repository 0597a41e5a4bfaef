DELETE FROM ANALYTICS.audsync.audsync_locks WHERE sync_id = 'buyers__meta' AND expires_at < CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ);

SELECT run_id, holder FROM ANALYTICS.audsync.audsync_locks WHERE sync_id = 'buyers__meta';

MERGE INTO ANALYTICS.audsync.audsync_locks AS t
USING (
  (SELECT sync_id, run_id, holder, acquired_at, expires_at FROM ANALYTICS.audsync.audsync_locks LIMIT 0)
  UNION ALL
  (SELECT 'buyers__meta', 'run-1', 'host:1234', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), CAST('2026-03-01 10:10:00.000' AS TIMESTAMP_NTZ))
) AS s
ON t.sync_id = s.sync_id
WHEN NOT MATCHED THEN INSERT (sync_id, run_id, holder, acquired_at, expires_at) VALUES (s.sync_id, s.run_id, s.holder, s.acquired_at, s.expires_at);

SELECT run_id, holder FROM ANALYTICS.audsync.audsync_locks WHERE sync_id = 'buyers__meta';

DELETE FROM ANALYTICS.audsync.audsync_locks WHERE sync_id = 'buyers__meta' AND run_id = 'run-1';
