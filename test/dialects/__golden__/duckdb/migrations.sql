CREATE SCHEMA IF NOT EXISTS "audsync"."audsync";

CREATE TABLE IF NOT EXISTS "audsync"."audsync".audsync_migrations (
  version INTEGER NOT NULL,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL,
  audsync_version VARCHAR,
  PRIMARY KEY (version)
);

SELECT version FROM "audsync"."audsync".audsync_migrations;

CREATE TABLE "audsync"."audsync".audsync_runs (
  run_id VARCHAR NOT NULL,
  invocation_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  model VARCHAR NOT NULL,
  destination VARCHAR NOT NULL,
  audience_id VARCHAR,
  mode VARCHAR NOT NULL,
  target VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  members BIGINT,
  added BIGINT,
  removed BIGINT,
  changed BIGINT,
  failed BIGINT,
  invalid BIGINT,
  held_out BIGINT,
  error_message VARCHAR,
  model_sql_sha256 VARCHAR,
  audsync_version VARCHAR,
  no_consent BIGINT,
  rows_sent BIGINT,
  requests BIGINT,
  full_refresh BOOLEAN,
  PRIMARY KEY (run_id)
);

CREATE TABLE "audsync"."audsync".audsync_changes (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  op VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  attempt INTEGER NOT NULL,
  error_code VARCHAR,
  error_message VARCHAR,
  source_updated_at TIMESTAMP,
  sent_at TIMESTAMP
);

CREATE TABLE "audsync"."audsync".audsync_snapshots (
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  email_hash VARCHAR,
  phone_hash VARCHAR,
  first_name_hash VARCHAR,
  last_name_hash VARCHAR,
  zip_hash VARCHAR,
  city_hash VARCHAR,
  state_hash VARCHAR,
  country_hash VARCHAR,
  maid_hash VARCHAR,
  external_id_hash VARCHAR,
  fingerprint BIGINT NOT NULL,
  first_synced_at TIMESTAMP NOT NULL,
  last_synced_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE "audsync"."audsync".audsync_holdouts (
  model VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  "group" VARCHAR NOT NULL,
  salt VARCHAR NOT NULL,
  assigned_at TIMESTAMP NOT NULL,
  PRIMARY KEY (model, salt, member_key)
);

CREATE TABLE "audsync"."audsync".audsync_locks (
  sync_id VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,
  holder VARCHAR NOT NULL,
  acquired_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id)
);

CREATE TABLE "audsync"."audsync".audsync_deliveries (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  op VARCHAR NOT NULL,
  first_row_id BIGINT NOT NULL,
  last_row_id BIGINT NOT NULL,
  row_count INTEGER NOT NULL,
  status VARCHAR NOT NULL,
  attempts INTEGER NOT NULL,
  error_code VARCHAR,
  error_message VARCHAR,
  finished_at TIMESTAMP NOT NULL
);

CREATE TABLE "audsync"."audsync".audsync_retries (
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  attempts INTEGER NOT NULL,
  fingerprint BIGINT,
  last_error_code VARCHAR,
  last_error_message VARCHAR,
  last_attempt_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE "audsync"."audsync".audsync_sync_state (
  sync_id VARCHAR NOT NULL,
  destination VARCHAR NOT NULL,
  platform VARCHAR NOT NULL,
  audience_id VARCHAR NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id)
);

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (1, 'state and audit tables', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');

CREATE TABLE "audsync"."audsync".audsync_invalid_identifiers (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  identifier VARCHAR NOT NULL,
  present BIGINT NOT NULL,
  invalid BIGINT NOT NULL,
  PRIMARY KEY (run_id, sync_id, identifier)
);

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (2, 'invalid identifiers per kind', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');

CREATE TABLE "audsync"."audsync".audsync_platform_reports (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  platform VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  reference VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  details VARCHAR,
  recorded_at TIMESTAMP NOT NULL
);

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (3, 'platform reports', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');

ALTER TABLE "audsync"."audsync".audsync_snapshots ADD COLUMN address_key VARCHAR;

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (4, 'address key in snapshots', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');

ALTER TABLE "audsync"."audsync".audsync_snapshots ADD COLUMN source_fingerprint BIGINT;

ALTER TABLE "audsync"."audsync".audsync_snapshots ADD COLUMN kinds_mask BIGINT;

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (5, 'source fingerprint in snapshots', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');

CREATE TABLE "audsync"."audsync".audsync_snapshots_v6 (
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  email_hash VARCHAR,
  phone_hash VARCHAR,
  first_name_hash VARCHAR,
  last_name_hash VARCHAR,
  zip_hash VARCHAR,
  city_hash VARCHAR,
  state_hash VARCHAR,
  country_hash VARCHAR,
  maid_hash VARCHAR,
  external_id_hash VARCHAR,
  fingerprint BIGINT NOT NULL,
  first_synced_at TIMESTAMP NOT NULL,
  last_synced_at TIMESTAMP NOT NULL,
  address_key VARCHAR,
  source_fingerprint BIGINT,
  kinds_mask BIGINT
);

INSERT INTO "audsync"."audsync".audsync_snapshots_v6 SELECT * FROM "audsync"."audsync".audsync_snapshots;

DROP TABLE "audsync"."audsync".audsync_snapshots;

ALTER TABLE "audsync"."audsync".audsync_snapshots_v6 RENAME TO audsync_snapshots;

INSERT INTO "audsync"."audsync".audsync_migrations (version, name, applied_at, audsync_version) VALUES (6, 'snapshots without a primary-key index on DuckDB', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP), '0.0.0-golden');
