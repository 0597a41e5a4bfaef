// migrations.ts through migrate(): the state schema is the analysts' contract (contract.md), so its
// tables and column order are checked against the contract's lists, on a real DuckDB.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDSYNC_VERSION } from '../../src/core/version.js';
import { migrate } from '../../src/runner/state.js';
import { migrations, migrationsTableSql } from '../../src/warehouse/sql/migrations.js';
import { postgresDialect } from '../../src/warehouse/sql/dialects/postgres.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres/postgres-warehouse.js';
import { createTestDatabase } from '../support/postgres.js';
import { columnsOf, d, openDb, SCHEMA, type TestDb } from './support.js';

// contract.md, "Audit tables": the documented columns, in the documented order.
const CONTRACT = {
  audsync_runs: [
    'run_id', 'invocation_id', 'sync_id', 'model', 'destination', 'audience_id', 'mode', 'target', 'status', 'started_at', 'finished_at',
    'members', 'added', 'removed', 'changed', 'failed', 'invalid', 'held_out', 'error_message', 'model_sql_sha256', 'audsync_version',
  ],
  audsync_changes: ['run_id', 'sync_id', 'member_key', 'op', 'status', 'attempt', 'error_code', 'error_message', 'source_updated_at', 'sent_at'],
  audsync_holdouts: ['model', 'member_key', 'group', 'salt', 'assigned_at'],
};
const HASH_COLUMNS = ['email', 'phone', 'first_name', 'last_name', 'zip', 'city', 'state', 'country', 'maid', 'external_id'].map((k) => `${k}_hash`);
const STATE_TABLES = [
  'audsync_changes', 'audsync_deliveries', 'audsync_holdouts', 'audsync_invalid_identifiers', 'audsync_locks', 'audsync_migrations',
  'audsync_platform_reports', 'audsync_retries', 'audsync_runs', 'audsync_snapshots', 'audsync_sync_state',
];
const VERSIONS = [1, 2, 3, 4, 5, 6];
/** Migration 2: per run, sync and identifier kind, how many values were present and how many invalid. */
const INVALID_IDENTIFIERS = ['run_id', 'sync_id', 'identifier', 'present', 'invalid'];

let db: TestDb;
beforeEach(async () => {
  db = await openDb();
});
afterEach(async () => {
  await db.close();
});

const tablesIn = async (schema: string) =>
  (
    await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY table_name`,
    )
  ).map((r) => r.table_name);

describe('migrate() on DuckDB', () => {
  it('creates exactly the state tables, in the state schema only', async () => {
    expect(await migrate(db.wh, d, SCHEMA)).toEqual(VERSIONS);
    expect(await tablesIn(SCHEMA)).toEqual(STATE_TABLES);
    expect(await tablesIn('main')).toEqual([]);
  });

  it('audsync_runs starts with the contract columns in contract order; extras only after', async () => {
    await migrate(db.wh, d, SCHEMA);
    const columns = await columnsOf(db.wh, 'audsync_runs');
    expect(columns.slice(0, CONTRACT.audsync_runs.length)).toEqual(CONTRACT.audsync_runs);
    const extras = columns.slice(CONTRACT.audsync_runs.length);
    expect(extras).toEqual(expect.arrayContaining(['no_consent', 'rows_sent', 'requests', 'full_refresh']));
    expect(extras.filter((c) => CONTRACT.audsync_runs.includes(c))).toEqual([]);
  });

  it('audsync_changes and audsync_holdouts have exactly the contract columns', async () => {
    await migrate(db.wh, d, SCHEMA);
    expect(await columnsOf(db.wh, 'audsync_changes')).toEqual(CONTRACT.audsync_changes);
    expect(await columnsOf(db.wh, 'audsync_holdouts')).toEqual(CONTRACT.audsync_holdouts);
  });

  it('audsync_snapshots: sync, member key, one hash column per identifier kind, fingerprint, sync times; then the address key, source fingerprint and kinds mask', async () => {
    await migrate(db.wh, d, SCHEMA);
    expect(await columnsOf(db.wh, 'audsync_snapshots')).toEqual([
      'sync_id', 'member_key', ...HASH_COLUMNS, 'fingerprint', 'first_synced_at', 'last_synced_at',
      'address_key', // migration 4, at the end
      'source_fingerprint', 'kinds_mask', // migration 5
    ]);
  });

  it('migration 4 adds address_key to a snapshot that already holds rows, which keep their data (address_key NULL)', async () => {
    for (const statement of migrationsTableSql(d, SCHEMA)) await db.wh.execute(statement);
    for (const m of migrations.slice(0, 3)) for (const statement of m.statements(d, SCHEMA)) await db.wh.execute(statement);
    for (const version of [1, 2, 3]) await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_migrations VALUES (${version}, 'v${version}', TIMESTAMP '2026-01-01', '0.0.1')`);
    await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_snapshots (sync_id, member_key, zip_hash, fingerprint, first_synced_at, last_synced_at)
      VALUES ('s', 'm1', 'h', 1, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01')`);
    expect(await migrate(db.wh, d, SCHEMA)).toEqual([4, 5, 6]);
    expect(await db.query(`SELECT member_key, zip_hash, address_key, source_fingerprint, kinds_mask FROM ${SCHEMA}.audsync_snapshots`)).toEqual([
      { member_key: 'm1', zip_hash: 'h', address_key: null, source_fingerprint: null, kinds_mask: null },
    ]);
  });

  it('stores member keys as text and timestamps as TIMESTAMP', async () => {
    await migrate(db.wh, d, SCHEMA);
    const types = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = '${SCHEMA}' AND (column_name = 'member_key' OR column_name LIKE '%\\_at' ESCAPE '\\')
       ORDER BY table_name, column_name`,
    );
    expect(types.length).toBeGreaterThan(10);
    for (const c of types) expect(`${c.table_name}.${c.column_name}:${c.data_type}`).toMatch(c.column_name === 'member_key' ? /:VARCHAR$/ : /:TIMESTAMP$/);
  });

  it('records every version in audsync_migrations, each with its name and the audsync version', async () => {
    await migrate(db.wh, d, SCHEMA);
    const rows = await db.query<{ version: number; name: string; audsync_version: string; applied_at: Date }>(
      `SELECT version, name, audsync_version, applied_at FROM ${SCHEMA}.audsync_migrations ORDER BY version`,
    );
    expect(migrations.map((m) => m.version)).toEqual(VERSIONS);
    expect(rows).toHaveLength(VERSIONS.length);
    rows.forEach((row, i) => expect(row).toMatchObject({ version: VERSIONS[i], name: migrations[i]!.name, audsync_version: AUDSYNC_VERSION }));
    expect(rows[1]!.name).toBe('invalid identifiers per kind');
    for (const row of rows) expect(Math.abs(row.applied_at.getTime() - Date.now())).toBeLessThan(60_000); // stored as UTC
  });

  it('applies only the later migrations to a state schema that has version 1, keeping its data', async () => {
    for (const statement of migrationsTableSql(d, SCHEMA)) await db.wh.execute(statement);
    for (const statement of migrations[0]!.statements(d, SCHEMA)) await db.wh.execute(statement);
    await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_migrations VALUES (1, 'state and audit tables', TIMESTAMP '2026-01-01', '0.0.1')`);
    await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_sync_state VALUES ('s', 'meta', 'meta_custom_audiences', 'a1', TIMESTAMP '2026-01-01')`);
    expect(await migrate(db.wh, d, SCHEMA)).toEqual(VERSIONS.slice(1));
    expect(await tablesIn(SCHEMA)).toEqual(STATE_TABLES);
    expect(await db.query(`SELECT version FROM ${SCHEMA}.audsync_migrations ORDER BY version`)).toEqual(VERSIONS.map((version) => ({ version })));
    expect(await db.query(`SELECT count(*) AS n FROM ${SCHEMA}.audsync_sync_state`)).toEqual([{ n: 1 }]);
  });

  it('audsync_invalid_identifiers: one row per run, sync and identifier kind (primary key), counts as BIGINT', async () => {
    await migrate(db.wh, d, SCHEMA);
    expect(await columnsOf(db.wh, 'audsync_invalid_identifiers')).toEqual(INVALID_IDENTIFIERS);
    const types = await db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '${SCHEMA}' AND table_name = 'audsync_invalid_identifiers' ORDER BY ordinal_position`,
    );
    expect(types.map((c) => c.data_type)).toEqual(['VARCHAR', 'VARCHAR', 'VARCHAR', 'BIGINT', 'BIGINT']);
    const row = `INSERT INTO ${SCHEMA}.audsync_invalid_identifiers VALUES ('r1', 's', 'email', 10, 2)`;
    await db.wh.execute(row);
    await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_invalid_identifiers VALUES ('r1', 's', 'phone', 10, 2)`);
    await expect(db.wh.execute(row)).rejects.toThrow(/constraint|duplicate/i);
    await expect(db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_invalid_identifiers VALUES ('r2', 's', 'email', NULL, 0)`)).rejects.toThrow(/NOT NULL/i);
  });

  it('is a no-op the second time: nothing applied, nothing recorded twice, data kept', async () => {
    await migrate(db.wh, d, SCHEMA);
    await db.wh.execute(`INSERT INTO ${SCHEMA}.audsync_sync_state VALUES ('s', 'meta', 'meta_custom_audiences', 'a1', TIMESTAMP '2026-01-01')`);
    const before = await columnsOf(db.wh, 'audsync_runs');
    expect(await migrate(db.wh, d, SCHEMA)).toEqual([]);
    expect(await db.query(`SELECT version FROM ${SCHEMA}.audsync_migrations ORDER BY version`)).toEqual(VERSIONS.map((version) => ({ version })));
    expect(await columnsOf(db.wh, 'audsync_runs')).toEqual(before);
    expect(await db.query(`SELECT count(*) AS n FROM ${SCHEMA}.audsync_sync_state`)).toEqual([{ n: 1 }]);
  });

  it('honours another state schema name, quoted', async () => {
    expect(await migrate(db.wh, d, 'Audit State')).toEqual(VERSIONS);
    expect(await tablesIn('Audit State')).toEqual(STATE_TABLES);
  });

  it('keeps the primary key the runner relies on (holdouts per model, salt, member); snapshots have no index on DuckDB (migration 6)', async () => {
    await migrate(db.wh, d, SCHEMA);
    // The commit keeps snapshot rows unique (test/e2e/incremental.test.ts counts them); an index
    // on DuckDB only cost memory and checkpoints.
    const snap = `INSERT INTO ${SCHEMA}.audsync_snapshots (sync_id, member_key, email_hash, fingerprint, first_synced_at, last_synced_at)
      VALUES ('s', 'm1', 'h', 1, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01')`;
    await db.wh.execute(snap);
    await db.wh.execute(snap);
    expect(await db.query(`SELECT count(*) AS n FROM duckdb_indexes() WHERE table_name = 'audsync_snapshots'`)).toEqual([{ n: 0 }]);
    expect(await db.query(`SELECT count(*) AS n FROM duckdb_constraints() WHERE table_name = 'audsync_snapshots' AND constraint_type = 'PRIMARY KEY'`)).toEqual([{ n: 0 }]);
    const hold = (salt: string) =>
      `INSERT INTO ${SCHEMA}.audsync_holdouts VALUES ('buyers', 'm1', 'control', '${salt}', TIMESTAMP '2026-01-01')`;
    await db.wh.execute(hold('a'));
    await db.wh.execute(hold('b')); // another salt is another assignment
    await expect(db.wh.execute(hold('a'))).rejects.toThrow(/constraint|duplicate/i);
  });
});

describe('migrate() on Postgres', () => {
  it('runs starting at once on a new state schema: each finds it complete, and each migration is applied once', async () => {
    // Two syncs of one DAG starting together: racing CREATE TABLE IF NOT EXISTS statements made
    // Postgres refuse one with a duplicate key in pg_type (a CI failure), before the lock.
    const database = await createTestDatabase();
    const warehouses = await Promise.all(Array.from({ length: 4 }, () => PostgresWarehouse.open({ type: 'postgres', connection: database.url } as never)));
    try {
      const done = await Promise.all(warehouses.map((wh) => migrate(wh, postgresDialect, SCHEMA)));
      expect(done.filter((v) => v.length > 0)).toEqual([VERSIONS]);
      expect(await database.query(`SELECT version FROM ${SCHEMA}.audsync_migrations ORDER BY version`)).toEqual(VERSIONS.map((version) => ({ version })));
    } finally {
      await Promise.all(warehouses.map((wh) => wh.close()));
      await database.drop();
    }
  });
});

describe('migration SQL text', () => {
  it('quotes the schema and the reserved column "group"; one CREATE per table', () => {
    const statements = migrations[0]!.statements(d, 'audsync');
    // audsync_migrations comes from migrationsTableSql, the last two tables from migrations 2 and 3
    expect(statements).toHaveLength(STATE_TABLES.length - 3);
    for (const s of statements) expect(s).toMatch(/^CREATE TABLE "audsync"\.audsync_[a-z_]+ \(/);
    const second = migrations[1]!.statements(d, 'audsync');
    expect(second).toHaveLength(1);
    expect(second[0]).toMatch(/^CREATE TABLE "audsync"\.audsync_invalid_identifiers \(/);
    expect(second[0]).toContain('PRIMARY KEY (run_id, sync_id, identifier)');
    expect(statements.join('\n')).toContain('"group" VARCHAR NOT NULL');
    expect(migrationsTableSql(d, 'audsync')[0]).toBe('CREATE SCHEMA IF NOT EXISTS "audsync"');
  });

  it('uses the dialect types: TIMESTAMPTZ and TEXT on Postgres', () => {
    const sql = migrations.flatMap((m) => m.statements(postgresDialect, 'audsync')).join('\n');
    expect(sql).toContain('started_at TIMESTAMPTZ NOT NULL');
    expect(sql).toContain('member_key TEXT NOT NULL');
    expect(sql).not.toMatch(/VARCHAR|\bTIMESTAMP\b(?!TZ)/);
  });
});
