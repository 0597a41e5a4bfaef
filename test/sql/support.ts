// Shared fixtures for the per-step SQL tests: the product's own DuckDB warehouse in memory, model
// and sync specs built by hand, and small helpers that run one step's SQL and read its table back.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentifierRule } from '../../src/core/identifiers.js';
import type { ModelDef } from '../../src/core/manifest.js';
import { batches } from '../../src/platforms/delivery/batcher.js';
import { migrate } from '../../src/runner/state.js';
import { candidateSql, type NormalizedIdentifier } from '../../src/warehouse/sql/candidate.js';
import { commitSql } from '../../src/warehouse/sql/commit.js';
import { deltaSql, removedColumn, type SyncSqlSpec } from '../../src/warehouse/sql/delta.js';
import { partsSql } from '../../src/warehouse/sql/parts.js';
import { literal } from '../../src/warehouse/sql/dialect.js';
import { duckdbDialect } from '../../src/warehouse/sql/dialects/duckdb.js';
import { scratch, stateTables } from '../../src/warehouse/sql/names.js';
import { holdBackAddsSql, memberResultsSql, rowsToSendSql, unpackRows } from '../../src/warehouse/sql/outcome.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';

export const d = duckdbDialect;
export const SCHEMA = 'audsync';
export const t = stateTables(d, SCHEMA);

export const EMAIL_RULE: IdentifierRule = { role: 'match', normalizer: 'email', encoding: 'sha256' };
export const EMAIL_IDS: NormalizedIdentifier[] = [{ kind: 'email', rule: EMAIL_RULE }];

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The reference email rule the tests hold the SQL to: whitespace (JavaScript's \s, Unicode included)
 * dropped anywhere, dots at either end dropped (Meta's SDK strips " \t\r\n\0\x0B." at the ends),
 * lowercased, then validated: one '@', something before it, a dot inside the domain; or 64 hex.
 */
export function refEmail(raw: string | null): string | null {
  if (raw === null) return null;
  const v = raw.replace(/\s+/g, '').replace(/^\.+|\.+$/g, '').toLowerCase();
  return /^[^@]+@[^@]+\.[^@]+$/.test(v) || /^[0-9a-f]{64}$/.test(v) ? v : null;
}
/** What is sent for an email: its SHA-256, or the value itself when it already is one. */
export function refEmailHash(raw: string | null): string | null {
  const v = refEmail(raw);
  if (v === null) return null;
  return /^[0-9a-f]{64}$/.test(v) ? v : sha256(v);
}

export interface TestDb {
  wh: Warehouse;
  dir: string;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** The product's DuckDbWarehouse on ':memory:', optionally with the state schema migrated. */
export async function openDb(options: { migrate?: boolean } = {}): Promise<TestDb> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-sql-'));
  const { definition } = await import('../../src/warehouse/duckdb/index.js');
  const wh = await definition.connect({ path: ':memory:' }, { projectDir: dir });
  if (options.migrate) await migrate(wh, d, SCHEMA);
  return {
    wh,
    dir,
    query: (sql) => wh.query(sql),
    async close() {
      await wh.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function model(over: Partial<ModelDef> & Pick<ModelDef, 'sql'>): ModelDef {
  return {
    name: 'buyers',
    file: 'models/buyers.yml',
    tags: [],
    key: 'id',
    identifiers: { email: 'email' },
    consent: 'consent',
    syncs: [],
    ...over,
  };
}

/** `SELECT * FROM (VALUES ...) AS v(columns)`, behind a typed empty SELECT so all-NULL columns keep their type. */
export function valuesSql(columns: Record<string, string>, rows: (string | number | boolean | null)[][]): string {
  const names = Object.keys(columns);
  const typed = `SELECT ${names.map((n) => `CAST(NULL AS ${columns[n]}) AS ${d.quoteIdent(n)}`).join(', ')} WHERE FALSE`;
  if (rows.length === 0) return typed;
  const values = rows.map((r) => `(${r.map((v) => literal(d, v)).join(', ')})`).join(',\n  ');
  return `${typed}\nUNION ALL\nSELECT * FROM (VALUES\n  ${values}\n) AS v(${names.map(d.quoteIdent).join(', ')})`;
}

export interface Member {
  id: string | null;
  email: string | null;
  consent?: boolean | null;
}

/** A model over members given in code: id, email, consent (TRUE unless said). */
export function membersModel(members: Member[], over: Partial<ModelDef> = {}): ModelDef {
  const sql = valuesSql(
    { id: 'VARCHAR', email: 'VARCHAR', consent: 'BOOLEAN' },
    members.map((m) => [m.id, m.email, m.consent === undefined ? true : m.consent]),
  );
  return model({ sql, ...over });
}

export function spec(over: Partial<SyncSqlSpec> = {}): SyncSqlSpec {
  return {
    syncId: 'buyers__meta',
    index: 0,
    model: 'buyers',
    mode: 'mirror',
    identifiers: [{ kind: 'email', rule: EMAIL_RULE }],
    freshStart: false,
    resendAll: false,
    ...over,
  };
}

export async function buildCandidate(wh: Warehouse, m: ModelDef, ids: NormalizedIdentifier[] = EMAIL_IDS): Promise<void> {
  await wh.execute(candidateSql(d, m, ids));
}

/** deltaSql then partsSql, as the runner runs them. */
export async function buildDelta(wh: Warehouse, s: SyncSqlSpec): Promise<void> {
  await wh.execute(deltaSql(d, s, t.snapshots));
  await wh.execute(partsSql(d, s, t.snapshots));
}

export interface DeltaRow {
  member_key: string;
  op: string;
  new_email: string | null;
  old_email: string | null;
}
/** The email a delta row would add and remove (removedColumn: a hashed email is removed as the snapshot holds it). */
export const readDelta = (wh: Warehouse, s: SyncSqlSpec) =>
  wh.query<DeltaRow>(
    `SELECT member_key, op, new_email, ${removedColumn(s.identifiers.find((i) => i.kind === 'email')!)} AS old_email FROM ${d.quoteIdent(scratch.delta(s.index))} ORDER BY member_key`,
  );

export interface PartRow {
  member_key: string;
  op: string;
  email: string | null;
  row_id: number;
}
export const readParts = (wh: Warehouse, s: SyncSqlSpec) =>
  wh.query<PartRow>(`SELECT member_key, op, email, row_id FROM ${d.quoteIdent(scratch.parts(s.index))} ORDER BY op, member_key`);

export interface SnapshotSeed {
  member_key: string;
  email_hash: string | null;
  fingerprint?: number;
  first_synced_at?: string;
}

/** Snapshot rows written by hand (a fingerprint no candidate produces, unless given). */
export async function seedSnapshot(wh: Warehouse, syncId: string, rows: SnapshotSeed[]): Promise<void> {
  for (const r of rows) {
    const first = d.timestamp(r.first_synced_at ?? '2026-01-01T00:00:00Z');
    await wh.execute(
      `INSERT INTO ${t.snapshots} (sync_id, member_key, email_hash, fingerprint, first_synced_at, last_synced_at)
VALUES (${literal(d, syncId)}, ${literal(d, r.member_key)}, ${literal(d, r.email_hash)}, ${r.fingerprint ?? 0}, ${first}, ${first})`,
    );
  }
}

export interface DeliverySeed {
  run_id: string;
  sync_id: string;
  op: 'add' | 'remove';
  first_row_id: number;
  last_row_id: number;
  status: 'sent' | 'failed';
  error_code?: string | null;
  error_message?: string | null;
}

/** Delivery outcomes written by hand, as OutcomeWriter would. */
export async function seedDeliveries(wh: Warehouse, rows: DeliverySeed[]): Promise<void> {
  if (rows.length === 0) return;
  await wh.insertRows(
    t.deliveries,
    rows.map((r) => ({
      run_id: r.run_id,
      sync_id: r.sync_id,
      op: r.op,
      first_row_id: r.first_row_id,
      last_row_id: r.last_row_id,
      row_count: r.last_row_id - r.first_row_id + 1,
      status: r.status,
      attempts: 1,
      error_code: r.error_code ?? null,
      error_message: r.error_message ?? null,
      finished_at: new Date('2026-01-01T00:00:00Z'),
    })),
  );
}

/** Column names of a table, in order. */
export async function columnsOf(wh: Warehouse, table: string): Promise<string[]> {
  const rows = await wh.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = ${literal(d, SCHEMA)} AND table_name = ${literal(d, table)} ORDER BY ordinal_position`,
  );
  return rows.map((r) => r.column_name);
}

export interface SentRow {
  row_id: number;
  email?: string | null;
}
export type FailRow = (op: 'add' | 'remove', row: SentRow) => string | undefined;

/**
 * Delivers as the runner does, without a platform: removes first, then adds (read after the removes'
 * outcomes are written), each op's rows recorded as 'sent' ranges of consecutive row ids, plus one
 * 'failed' row (error code from `fail`) per rejected row.
 */
export async function deliverSimulated(wh: Warehouse, s: SyncSqlSpec, runId: string, fail: FailRow = () => undefined) {
  const sent: Record<'add' | 'remove', SentRow[]> = { add: [], remove: [] };
  for (const op of ['remove', 'add'] as const) {
    if (op === 'add') await wh.execute(holdBackAddsSql(d, s, t.deliveries, runId, '2026-01-01T00:00:00.000Z'));
    const rows = await sendRows<SentRow>(wh, s, op, runId);
    sent[op] = rows;
    const outcomes: DeliverySeed[] = [];
    for (const r of rows) {
      const last = outcomes.at(-1);
      if (last && last.last_row_id === r.row_id - 1) last.last_row_id = r.row_id;
      else outcomes.push({ run_id: runId, sync_id: s.syncId, op, first_row_id: r.row_id, last_row_id: r.row_id, status: 'sent' });
    }
    for (const r of rows) {
      const code = fail(op, r);
      if (code) outcomes.push({ run_id: runId, sync_id: s.syncId, op, first_row_id: r.row_id, last_row_id: r.row_id, status: 'failed', error_code: code, error_message: `rejected: ${code}` });
    }
    await seedDeliveries(wh, outcomes);
  }
  return sent;
}

/**
 * Delivers exactly as deliver.ts records outcomes: the rows cut by the product's own batches(), one
 * 'sent' range firstRowId..lastRowId per request, a rejected row at its own row id, and held-back
 * adds recorded before the add phase, as src/runner/sync.ts does.
 */
export async function deliverLikeRunner(wh: Warehouse, s: SyncSqlSpec, runId: string, fail: FailRow = () => undefined, maxRows = 10_000) {
  const sent: Record<'add' | 'remove', SentRow[]> = { add: [], remove: [] };
  const kinds = s.identifiers.map((i) => i.kind);
  for (const op of ['remove', 'add'] as const) {
    if (op === 'add') await wh.execute(holdBackAddsSql(d, s, t.deliveries, runId, '2026-01-01T00:00:00.000Z'));
    const stream = async function* () {
      yield await sendRows(wh, s, op, runId);
    };
    const outcomes: DeliverySeed[] = [];
    for await (const batch of batches(stream(), kinds, { maxRows })) {
      outcomes.push({ run_id: runId, sync_id: s.syncId, op, first_row_id: batch.firstRowId, last_row_id: batch.lastRowId, status: 'sent' });
      batch.rows.forEach((values, index) => {
        const row = { row_id: batch.rowIds[index]!, ...values };
        sent[op].push(row);
        const code = fail(op, row);
        if (code) outcomes.push({ run_id: runId, sync_id: s.syncId, op, first_row_id: row.row_id, last_row_id: row.row_id, status: 'failed', error_code: code });
      });
    }
    await seedDeliveries(wh, outcomes);
  }
  return sent;
}

export interface ResultRow {
  member_key: string;
  op: string;
  status: string;
  action: string;
  error_code: string | null;
  error_message: string | null;
}
export async function memberResults(wh: Warehouse, s: SyncSqlSpec, runId: string, unsent = 'not sent'): Promise<ResultRow[]> {
  await wh.execute(memberResultsSql(d, s, t.deliveries, runId, unsent));
  return wh.query<ResultRow>(`SELECT member_key, op, status, action, error_code, error_message FROM ${d.quoteIdent(scratch.result(s.index))} ORDER BY member_key`);
}

export async function commit(wh: Warehouse, s: SyncSqlSpec, runId: string, nowIso: string, audienceId = 'aud-1'): Promise<void> {
  await wh.transaction(async (tx) => {
    for (const statement of commitSql(d, s, t, { runId, nowIso, destination: 'meta', platform: 'meta_custom_audiences', audienceId })) {
      await tx.execute(statement);
    }
  });
}

export interface SyncRun {
  runId: string;
  nowIso?: string;
  spec?: Partial<SyncSqlSpec>;
  fail?: FailRow;
  /** 'ideal' (default): outcomes by true row id; 'runner': as deliver.ts records them. */
  deliver?: 'ideal' | 'runner';
}

/** One whole sync of `members` on the SQL steps alone: candidate, delta, parts, delivery, results, commit. */
export async function syncRun(wh: Warehouse, members: Member[], run: SyncRun) {
  const s = spec(run.spec);
  await buildCandidate(wh, membersModel(members));
  await buildDelta(wh, s);
  const delta = await readDelta(wh, s);
  const parts = await readParts(wh, s);
  const sent = await (run.deliver === 'runner' ? deliverLikeRunner : deliverSimulated)(wh, s, run.runId, run.fail);
  const results = await memberResults(wh, s, run.runId);
  await commit(wh, s, run.runId, run.nowIso ?? '2026-01-01T00:00:00.000Z');
  return { delta, parts, sent, results };
}

export interface SnapshotRow {
  member_key: string;
  email_hash: string | null;
  first_synced_at: Date;
  last_synced_at: Date;
}
export const readSnapshot = (wh: Warehouse, syncId = 'buyers__meta') =>
  wh.query<SnapshotRow>(
    `SELECT member_key, email_hash, first_synced_at, last_synced_at FROM ${t.snapshots} WHERE sync_id = ${literal(d, syncId)} ORDER BY member_key`,
  );

/** The rows the runner would send for one op, as it streams them (packed query, then unpacked). */
export async function sendRows<T = Record<string, unknown>>(
  wh: Warehouse,
  s: SyncSqlSpec,
  op: 'add' | 'remove',
  runId: string,
): Promise<T[]> {
  const q = rowsToSendSql(d, s, op, t.deliveries, runId);
  return unpackRows(await wh.query<Record<string, unknown>>(q.sql), q.packed) as T[];
}
