CREATE SCHEMA IF NOT EXISTS `acme-dwh`.`audsync`;

CREATE TABLE IF NOT EXISTS `acme-dwh`.`audsync`.audsync_migrations (
  version INT64 NOT NULL,
  name STRING NOT NULL,
  applied_at TIMESTAMP NOT NULL,
  audsync_version STRING,
  PRIMARY KEY (version) NOT ENFORCED
);

SELECT version FROM `acme-dwh`.`audsync`.audsync_migrations;

CREATE TABLE `acme-dwh`.`audsync`.audsync_runs (
  run_id STRING NOT NULL,
  invocation_id STRING NOT NULL,
  sync_id STRING NOT NULL,
  model STRING NOT NULL,
  destination STRING NOT NULL,
  audience_id STRING,
  mode STRING NOT NULL,
  target STRING NOT NULL,
  status STRING NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP,
  members INT64,
  added INT64,
  removed INT64,
  changed INT64,
  failed INT64,
  invalid INT64,
  held_out INT64,
  error_message STRING,
  model_sql_sha256 STRING,
  audsync_version STRING,
  no_consent INT64,
  rows_sent INT64,
  requests INT64,
  full_refresh BOOL,
  PRIMARY KEY (run_id) NOT ENFORCED
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_changes (
  run_id STRING NOT NULL,
  sync_id STRING NOT NULL,
  member_key STRING NOT NULL,
  op STRING NOT NULL,
  status STRING NOT NULL,
  attempt INT64 NOT NULL,
  error_code STRING,
  error_message STRING,
  source_updated_at TIMESTAMP,
  sent_at TIMESTAMP
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_snapshots (
  sync_id STRING NOT NULL,
  member_key STRING NOT NULL,
  email_hash STRING,
  phone_hash STRING,
  first_name_hash STRING,
  last_name_hash STRING,
  zip_hash STRING,
  city_hash STRING,
  state_hash STRING,
  country_hash STRING,
  maid_hash STRING,
  external_id_hash STRING,
  fingerprint INT64 NOT NULL,
  first_synced_at TIMESTAMP NOT NULL,
  last_synced_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id, member_key) NOT ENFORCED
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_holdouts (
  model STRING NOT NULL,
  member_key STRING NOT NULL,
  `group` STRING NOT NULL,
  salt STRING NOT NULL,
  assigned_at TIMESTAMP NOT NULL,
  PRIMARY KEY (model, salt, member_key) NOT ENFORCED
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_locks (
  sync_id STRING NOT NULL,
  run_id STRING NOT NULL,
  holder STRING NOT NULL,
  acquired_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id) NOT ENFORCED
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_deliveries (
  run_id STRING NOT NULL,
  sync_id STRING NOT NULL,
  op STRING NOT NULL,
  first_row_id INT64 NOT NULL,
  last_row_id INT64 NOT NULL,
  row_count INT64 NOT NULL,
  status STRING NOT NULL,
  attempts INT64 NOT NULL,
  error_code STRING,
  error_message STRING,
  finished_at TIMESTAMP NOT NULL
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_retries (
  sync_id STRING NOT NULL,
  member_key STRING NOT NULL,
  attempts INT64 NOT NULL,
  fingerprint INT64,
  last_error_code STRING,
  last_error_message STRING,
  last_attempt_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id, member_key) NOT ENFORCED
);

CREATE TABLE `acme-dwh`.`audsync`.audsync_sync_state (
  sync_id STRING NOT NULL,
  destination STRING NOT NULL,
  platform STRING NOT NULL,
  audience_id STRING NOT NULL,
  updated_at TIMESTAMP NOT NULL,
  PRIMARY KEY (sync_id) NOT ENFORCED
);

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (1, 'state and audit tables', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');

CREATE TABLE `acme-dwh`.`audsync`.audsync_invalid_identifiers (
  run_id STRING NOT NULL,
  sync_id STRING NOT NULL,
  identifier STRING NOT NULL,
  present INT64 NOT NULL,
  invalid INT64 NOT NULL,
  PRIMARY KEY (run_id, sync_id, identifier) NOT ENFORCED
);

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (2, 'invalid identifiers per kind', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');

CREATE TABLE `acme-dwh`.`audsync`.audsync_platform_reports (
  run_id STRING NOT NULL,
  sync_id STRING NOT NULL,
  platform STRING NOT NULL,
  kind STRING NOT NULL,
  reference STRING NOT NULL,
  status STRING NOT NULL,
  details STRING,
  recorded_at TIMESTAMP NOT NULL
);

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (3, 'platform reports', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');

ALTER TABLE `acme-dwh`.`audsync`.audsync_snapshots ADD COLUMN address_key STRING;

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (4, 'address key in snapshots', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');

ALTER TABLE `acme-dwh`.`audsync`.audsync_snapshots ADD COLUMN source_fingerprint INT64;

ALTER TABLE `acme-dwh`.`audsync`.audsync_snapshots ADD COLUMN kinds_mask INT64;

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (5, 'source fingerprint in snapshots', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');

INSERT INTO `acme-dwh`.`audsync`.audsync_migrations (version, name, applied_at, audsync_version) VALUES (6, 'snapshots without a primary-key index on DuckDB', TIMESTAMP '2026-03-01 10:00:00.000+00:00', '0.0.0-golden');
