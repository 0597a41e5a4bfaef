UPDATE "audsync".audsync_runs SET status = 'partial', finished_at = CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), audience_id = '23851234567890',
  members = 1200, added = 10, removed = 2, changed = 1, failed = 3, invalid = 7, held_out = 120, no_consent = 4, rows_sent = 11, requests = 2, error_message = 'blocked by guardrails: would remove 2 of 10 members (check the model''s data, or run with --force)'
WHERE run_id = 'run-1';
