DELETE FROM "audsync".audsync_locks WHERE sync_id = 'buyers__meta' AND expires_at < CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ);

SELECT run_id, holder FROM "audsync".audsync_locks WHERE sync_id = 'buyers__meta';

INSERT INTO "audsync".audsync_locks ("sync_id", "run_id", "holder", "acquired_at", "expires_at")
SELECT 'buyers__meta', 'run-1', 'host:1234', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), CAST('2026-03-01T10:10:00.000Z' AS TIMESTAMPTZ)
ON CONFLICT DO NOTHING;

SELECT run_id, holder FROM "audsync".audsync_locks WHERE sync_id = 'buyers__meta';

DELETE FROM "audsync".audsync_locks WHERE sync_id = 'buyers__meta' AND run_id = 'run-1';
