SELECT pg_advisory_xact_lock(hashtextextended('audsync migrations audsync', 0));

CREATE SCHEMA IF NOT EXISTS "audsync";

CREATE TABLE IF NOT EXISTS "audsync".audsync_migrations (
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL,
  audsync_version TEXT,
  PRIMARY KEY (version)
);

SELECT version FROM "audsync".audsync_migrations;

CREATE TABLE "audsync".audsync_runs (
  run_id TEXT NOT NULL,
  invocation_id TEXT NOT NULL,
  sync_id TEXT NOT NULL,
  model TEXT NOT NULL,
  destination TEXT NOT NULL,
  audience_id TEXT,
  mode TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  members BIGINT,
  added BIGINT,
  removed BIGINT,
  changed BIGINT,
  failed BIGINT,
  invalid BIGINT,
  held_out BIGINT,
  error_message TEXT,
  model_sql_sha256 TEXT,
  audsync_version TEXT,
  no_consent BIGINT,
  rows_sent BIGINT,
  requests BIGINT,
  full_refresh BOOLEAN,
  PRIMARY KEY (run_id)
);

CREATE TABLE "audsync".audsync_changes (
  run_id TEXT NOT NULL,
  sync_id TEXT NOT NULL,
  member_key TEXT NOT NULL,
  op TEXT NOT NULL,
  status TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT,
  source_updated_at TIMESTAMPTZ,
  sent_at TIMESTAMPTZ
);

CREATE TABLE "audsync".audsync_snapshots (
  sync_id TEXT NOT NULL,
  member_key TEXT NOT NULL,
  email_hash TEXT,
  phone_hash TEXT,
  first_name_hash TEXT,
  last_name_hash TEXT,
  zip_hash TEXT,
  city_hash TEXT,
  state_hash TEXT,
  country_hash TEXT,
  maid_hash TEXT,
  external_id_hash TEXT,
  fingerprint BIGINT NOT NULL,
  first_synced_at TIMESTAMPTZ NOT NULL,
  last_synced_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE "audsync".audsync_holdouts (
  model TEXT NOT NULL,
  member_key TEXT NOT NULL,
  "group" TEXT NOT NULL,
  salt TEXT NOT NULL,
  assigned_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (model, salt, member_key)
);

CREATE TABLE "audsync".audsync_locks (
  sync_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  holder TEXT NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (sync_id)
);

CREATE TABLE "audsync".audsync_deliveries (
  run_id TEXT NOT NULL,
  sync_id TEXT NOT NULL,
  op TEXT NOT NULL,
  first_row_id BIGINT NOT NULL,
  last_row_id BIGINT NOT NULL,
  row_count INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT,
  finished_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE "audsync".audsync_retries (
  sync_id TEXT NOT NULL,
  member_key TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  fingerprint BIGINT,
  last_error_code TEXT,
  last_error_message TEXT,
  last_attempt_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE "audsync".audsync_sync_state (
  sync_id TEXT NOT NULL,
  destination TEXT NOT NULL,
  platform TEXT NOT NULL,
  audience_id TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (sync_id)
);

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (1, 'state and audit tables', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');

CREATE TABLE "audsync".audsync_invalid_identifiers (
  run_id TEXT NOT NULL,
  sync_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  present BIGINT NOT NULL,
  invalid BIGINT NOT NULL,
  PRIMARY KEY (run_id, sync_id, identifier)
);

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (2, 'invalid identifiers per kind', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');

CREATE TABLE "audsync".audsync_platform_reports (
  run_id TEXT NOT NULL,
  sync_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  kind TEXT NOT NULL,
  reference TEXT NOT NULL,
  status TEXT NOT NULL,
  details TEXT,
  recorded_at TIMESTAMPTZ NOT NULL
);

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (3, 'platform reports', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');

ALTER TABLE "audsync".audsync_snapshots ADD COLUMN address_key TEXT;

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (4, 'address key in snapshots', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');

ALTER TABLE "audsync".audsync_snapshots ADD COLUMN source_fingerprint BIGINT;

ALTER TABLE "audsync".audsync_snapshots ADD COLUMN kinds_mask BIGINT;

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (5, 'source fingerprint in snapshots', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');

INSERT INTO "audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (6, 'snapshots without a primary-key index on DuckDB', CAST('2026-03-01T10:00:00.000Z' AS TIMESTAMPTZ), '0.0.0-golden');
