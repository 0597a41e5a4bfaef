INSERT INTO "audsync".audsync_invalid_identifiers (run_id, sync_id, identifier, present, invalid) VALUES ('run-1', 'buyers__meta', 'email', 1200, 7), ('run-1', 'buyers__meta', 'phone', 900, 31);
