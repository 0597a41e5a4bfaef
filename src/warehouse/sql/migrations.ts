// The state schema, as numbered migrations. Analysts query these tables, so they are part of the
// contract: never edit a released migration; add the next number. New columns go at the end.
import type { SqlDialect } from './dialect.js';
import { IDENTIFIER_KINDS } from '../../core/identifiers.js';
import { schemaRef } from './names.js';

export interface Migration {
  version: number;
  name: string;
  statements(d: SqlDialect, schema: string, catalog?: string): string[];
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'state and audit tables',
    statements: (d, s, catalog) => {
      const { text, bigint, int, timestamp } = d.types;
      const q = (t: string) => `${schemaRef(d, s, catalog)}.${t}`;
      const hashColumns = IDENTIFIER_KINDS.map((k) => `  ${k}_hash ${text}`).join(',\n');
      return [
        `CREATE TABLE ${q('audsync_runs')} (
  run_id ${text} NOT NULL,
  invocation_id ${text} NOT NULL,
  sync_id ${text} NOT NULL,
  model ${text} NOT NULL,
  destination ${text} NOT NULL,
  audience_id ${text},
  mode ${text} NOT NULL,
  target ${text} NOT NULL,
  status ${text} NOT NULL,
  started_at ${timestamp} NOT NULL,
  finished_at ${timestamp},
  members ${bigint},
  added ${bigint},
  removed ${bigint},
  changed ${bigint},
  failed ${bigint},
  invalid ${bigint},
  held_out ${bigint},
  error_message ${text},
  model_sql_sha256 ${text},
  audsync_version ${text},
  no_consent ${bigint},
  rows_sent ${bigint},
  requests ${bigint},
  full_refresh ${d.types.bool},
  ${d.primaryKey(['run_id'])}
)`,
        `CREATE TABLE ${q('audsync_changes')} (
  run_id ${text} NOT NULL,
  sync_id ${text} NOT NULL,
  member_key ${text} NOT NULL,
  op ${text} NOT NULL,
  status ${text} NOT NULL,
  attempt ${int} NOT NULL,
  error_code ${text},
  error_message ${text},
  source_updated_at ${timestamp},
  sent_at ${timestamp}
)`,
        `CREATE TABLE ${q('audsync_snapshots')} (
  sync_id ${text} NOT NULL,
  member_key ${text} NOT NULL,
${hashColumns},
  fingerprint ${bigint} NOT NULL,
  first_synced_at ${timestamp} NOT NULL,
  last_synced_at ${timestamp} NOT NULL,
  ${d.primaryKey(['sync_id', 'member_key'])}
)`,
        `CREATE TABLE ${q('audsync_holdouts')} (
  model ${text} NOT NULL,
  member_key ${text} NOT NULL,
  ${d.quoteIdent('group')} ${text} NOT NULL,
  salt ${text} NOT NULL,
  assigned_at ${timestamp} NOT NULL,
  ${d.primaryKey(['model', 'salt', 'member_key'])}
)`,
        `CREATE TABLE ${q('audsync_locks')} (
  sync_id ${text} NOT NULL,
  run_id ${text} NOT NULL,
  holder ${text} NOT NULL,
  acquired_at ${timestamp} NOT NULL,
  expires_at ${timestamp} NOT NULL,
  ${d.primaryKey(['sync_id'])}
)`,
        // One row per request sent (a contiguous range of delivery rows) and per row a platform rejected.
        `CREATE TABLE ${q('audsync_deliveries')} (
  run_id ${text} NOT NULL,
  sync_id ${text} NOT NULL,
  op ${text} NOT NULL,
  first_row_id ${bigint} NOT NULL,
  last_row_id ${bigint} NOT NULL,
  row_count ${int} NOT NULL,
  status ${text} NOT NULL,
  attempts ${int} NOT NULL,
  error_code ${text},
  error_message ${text},
  finished_at ${timestamp} NOT NULL
)`,
        // Consecutive failed attempts per member, so `attempt` counts up and dead letters can be found.
        `CREATE TABLE ${q('audsync_retries')} (
  sync_id ${text} NOT NULL,
  member_key ${text} NOT NULL,
  attempts ${int} NOT NULL,
  fingerprint ${bigint},
  last_error_code ${text},
  last_error_message ${text},
  last_attempt_at ${timestamp} NOT NULL,
  ${d.primaryKey(['sync_id', 'member_key'])}
)`,
        // Which audience a sync's snapshot describes: pointing a sync at another audience starts it afresh.
        `CREATE TABLE ${q('audsync_sync_state')} (
  sync_id ${text} NOT NULL,
  destination ${text} NOT NULL,
  platform ${text} NOT NULL,
  audience_id ${text} NOT NULL,
  updated_at ${timestamp} NOT NULL,
  ${d.primaryKey(['sync_id'])}
)`,
      ];
    },
  },
  {
    version: 2,
    name: 'invalid identifiers per kind',
    // Why members' identifiers were not sent, per run, sync and kind: present in the model but not
    // valid under the platform's rule (an email without a domain, a phone of impossible length).
    statements: (d, s, catalog) => [
      `CREATE TABLE ${schemaRef(d, s, catalog)}.audsync_invalid_identifiers (
  run_id ${d.types.text} NOT NULL,
  sync_id ${d.types.text} NOT NULL,
  identifier ${d.types.text} NOT NULL,
  present ${d.types.bigint} NOT NULL,
  invalid ${d.types.bigint} NOT NULL,
  ${d.primaryKey(['run_id', 'sync_id', 'identifier'])}
)`,
    ],
  },
  {
    version: 3,
    name: 'platform reports',
    // What a platform said about an upload after the fact: Meta's received and invalid counts, a
    // Google request's status and match rate. Appended per run; a later poll appends a newer row.
    statements: (d, s, catalog) => [
      `CREATE TABLE ${schemaRef(d, s, catalog)}.audsync_platform_reports (
  run_id ${d.types.text} NOT NULL,
  sync_id ${d.types.text} NOT NULL,
  platform ${d.types.text} NOT NULL,
  kind ${d.types.text} NOT NULL,
  reference ${d.types.text} NOT NULL,
  status ${d.types.text} NOT NULL,
  details ${d.types.text},
  recorded_at ${d.types.timestamp} NOT NULL
)`,
    ],
  },
  {
    version: 4,
    name: 'address key in snapshots',
    // A Google address as it was sent: `<sha256 given>|<sha256 family>|<REGION>|<POSTAL>`, region and
    // postal code in plain text as Google takes them, so removing the address never needs the source
    // row. NULL for other platforms, incomplete addresses, and rows written before this version
    // (filled in by a later run where the source still matches: commit.ts). Why the plain parts are
    // stored: docs/identity.md, "Google addresses and the snapshot".
    statements: (d, s, catalog) => [`ALTER TABLE ${schemaRef(d, s, catalog)}.audsync_snapshots ADD COLUMN address_key ${d.types.text}`],
  },
  {
    version: 5,
    name: 'source fingerprint in snapshots',
    // What lets a run skip normalizing members whose source rows did not change (candidate.ts):
    // source_fingerprint, a 64-bit hash of the raw columns the sync read and of how it read them, and
    // kinds_mask, which kinds were present and which valid (source.ts), so the per-kind counts of
    // audsync_invalid_identifiers stay exact for members not normalized again. Neither
    // holds an identifier. NULL on older rows: those members are normalized on their next run.
    statements: (d, s, catalog) => [
      `ALTER TABLE ${schemaRef(d, s, catalog)}.audsync_snapshots ADD COLUMN source_fingerprint ${d.types.bigint}`,
      `ALTER TABLE ${schemaRef(d, s, catalog)}.audsync_snapshots ADD COLUMN kinds_mask ${d.types.bigint}`,
    ],
  },
  {
    version: 6,
    name: 'snapshots without a primary-key index on DuckDB',
    // DuckDB keeps a primary key as an ART index in memory, rewrites it whole at every checkpoint,
    // and cannot spill it: a first sync of 10M members ran out of a 1GB memory_limit committing
    // it, and each later commit paid for it (bench/). No statement looks members up by it (every
    // read is a join or a scan), and the commit keeps (sync_id, member_key) unique by deleting
    // before inserting. DuckDB cannot drop a constraint, so the table is copied. Elsewhere the key
    // stays: Postgres uses its index, BigQuery and Snowflake do not enforce theirs.
    statements: (d, s, catalog) => {
      if (d.name !== 'duckdb') return [];
      const ref = schemaRef(d, s, catalog);
      const { text, bigint, timestamp } = d.types;
      return [
        `CREATE TABLE ${ref}.audsync_snapshots_v6 (
  sync_id ${text} NOT NULL,
  member_key ${text} NOT NULL,
${IDENTIFIER_KINDS.map((k) => `  ${k}_hash ${text}`).join(',\n')},
  fingerprint ${bigint} NOT NULL,
  first_synced_at ${timestamp} NOT NULL,
  last_synced_at ${timestamp} NOT NULL,
  address_key ${text},
  source_fingerprint ${bigint},
  kinds_mask ${bigint}
)`,
        `INSERT INTO ${ref}.audsync_snapshots_v6 SELECT * FROM ${ref}.audsync_snapshots`,
        `DROP TABLE ${ref}.audsync_snapshots`,
        `ALTER TABLE ${ref}.audsync_snapshots_v6 RENAME TO audsync_snapshots`,
      ];
    },
  },
];

export function migrationsTableSql(d: SqlDialect, schema: string, catalog?: string): string[] {
  const ref = schemaRef(d, schema, catalog);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${ref}`,
    `CREATE TABLE IF NOT EXISTS ${ref}.audsync_migrations (
  version ${d.types.int} NOT NULL,
  name ${d.types.text} NOT NULL,
  applied_at ${d.types.timestamp} NOT NULL,
  audsync_version ${d.types.text},
  ${d.primaryKey(['version'])}
)`,
  ];
}
