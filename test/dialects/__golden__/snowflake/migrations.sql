CREATE SCHEMA IF NOT EXISTS ANALYTICS.audsync;

CREATE TABLE IF NOT EXISTS ANALYTICS.audsync.audsync_migrations (
  version INTEGER NOT NULL,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMP_NTZ NOT NULL,
  audsync_version VARCHAR,
  PRIMARY KEY (version)
);

SELECT version FROM ANALYTICS.audsync.audsync_migrations;

CREATE TABLE ANALYTICS.audsync.audsync_runs (
  run_id VARCHAR NOT NULL,
  invocation_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  model VARCHAR NOT NULL,
  destination VARCHAR NOT NULL,
  audience_id VARCHAR,
  mode VARCHAR NOT NULL,
  target VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  started_at TIMESTAMP_NTZ NOT NULL,
  finished_at TIMESTAMP_NTZ,
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

CREATE TABLE ANALYTICS.audsync.audsync_changes (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  op VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  attempt INTEGER NOT NULL,
  error_code VARCHAR,
  error_message VARCHAR,
  source_updated_at TIMESTAMP_NTZ,
  sent_at TIMESTAMP_NTZ
);

CREATE TABLE ANALYTICS.audsync.audsync_snapshots (
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
  first_synced_at TIMESTAMP_NTZ NOT NULL,
  last_synced_at TIMESTAMP_NTZ NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE ANALYTICS.audsync.audsync_holdouts (
  model VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  "group" VARCHAR NOT NULL,
  salt VARCHAR NOT NULL,
  assigned_at TIMESTAMP_NTZ NOT NULL,
  PRIMARY KEY (model, salt, member_key)
);

CREATE TABLE ANALYTICS.audsync.audsync_locks (
  sync_id VARCHAR NOT NULL,
  run_id VARCHAR NOT NULL,
  holder VARCHAR NOT NULL,
  acquired_at TIMESTAMP_NTZ NOT NULL,
  expires_at TIMESTAMP_NTZ NOT NULL,
  PRIMARY KEY (sync_id)
);

CREATE TABLE ANALYTICS.audsync.audsync_deliveries (
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
  finished_at TIMESTAMP_NTZ NOT NULL
);

CREATE TABLE ANALYTICS.audsync.audsync_retries (
  sync_id VARCHAR NOT NULL,
  member_key VARCHAR NOT NULL,
  attempts INTEGER NOT NULL,
  fingerprint BIGINT,
  last_error_code VARCHAR,
  last_error_message VARCHAR,
  last_attempt_at TIMESTAMP_NTZ NOT NULL,
  PRIMARY KEY (sync_id, member_key)
);

CREATE TABLE ANALYTICS.audsync.audsync_sync_state (
  sync_id VARCHAR NOT NULL,
  destination VARCHAR NOT NULL,
  platform VARCHAR NOT NULL,
  audience_id VARCHAR NOT NULL,
  updated_at TIMESTAMP_NTZ NOT NULL,
  PRIMARY KEY (sync_id)
);

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (1, 'state and audit tables', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');

CREATE TABLE ANALYTICS.audsync.audsync_invalid_identifiers (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  identifier VARCHAR NOT NULL,
  present BIGINT NOT NULL,
  invalid BIGINT NOT NULL,
  PRIMARY KEY (run_id, sync_id, identifier)
);

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (2, 'invalid identifiers per kind', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');

CREATE TABLE ANALYTICS.audsync.audsync_platform_reports (
  run_id VARCHAR NOT NULL,
  sync_id VARCHAR NOT NULL,
  platform VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  reference VARCHAR NOT NULL,
  status VARCHAR NOT NULL,
  details VARCHAR,
  recorded_at TIMESTAMP_NTZ NOT NULL
);

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (3, 'platform reports', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');

ALTER TABLE ANALYTICS.audsync.audsync_snapshots ADD COLUMN address_key VARCHAR;

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (4, 'address key in snapshots', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');

ALTER TABLE ANALYTICS.audsync.audsync_snapshots ADD COLUMN source_fingerprint BIGINT;

ALTER TABLE ANALYTICS.audsync.audsync_snapshots ADD COLUMN kinds_mask BIGINT;

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (5, 'source fingerprint in snapshots', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');

INSERT INTO ANALYTICS.audsync.audsync_migrations (version, name, applied_at, audsync_version) VALUES (6, 'snapshots without a primary-key index on DuckDB', CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ), '0.0.0-golden');
