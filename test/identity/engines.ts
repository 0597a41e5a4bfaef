// The two engines the identity tests run the product's SQL on, the same way: DuckDB through the
// product's own DuckDbWarehouse (in memory), Postgres through `pg` directly on a fresh database of
// this test file's own (audsync_id_<random>, dropped WITH (FORCE) afterwards), with the Postgres
// dialect. Plus the one helper every identity test uses: build the real candidate table from a
// VALUES model of raw inputs and read each rule's normalized value and what encodeSql sends.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { IdentifierKind, IdentifierRule } from '../../src/core/identifiers.js';
import type { ModelDef } from '../../src/core/manifest.js';
import { candidateSql, type NormalizedIdentifier } from '../../src/warehouse/sql/candidate.js';
import type { SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { duckdbDialect } from '../../src/warehouse/sql/dialects/duckdb.js';
import { postgresDialect } from '../../src/warehouse/sql/dialects/postgres.js';
import { normalizedColumn, scratch } from '../../src/warehouse/sql/names.js';
import { encodeSql } from '../../src/warehouse/sql/normalize.js';

export type EngineName = 'duckdb' | 'postgres';
export const ENGINES: EngineName[] = ['duckdb', 'postgres'];

export interface Engine {
  name: EngineName;
  d: SqlDialect;
  /** One statement, or several separated by ';'. */
  execute(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

export const PG_ADMIN_URL = process.env.AUDSYNC_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

async function duckdb(): Promise<Engine> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-id-'));
  const { definition } = await import('../../src/warehouse/duckdb/index.js');
  const wh = await definition.connect({ path: ':memory:' }, { projectDir: dir });
  return {
    name: 'duckdb',
    d: duckdbDialect,
    execute: (sql) => wh.execute(sql),
    query: (sql) => wh.query(sql),
    async close() {
      await wh.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface PostgresOptions {
  /** LC_CTYPE and LC_COLLATE of the fresh database (from template0), e.g. 'C'. Default: the server's. */
  ctype?: string;
}

/** A fresh database on the test server, dropped WITH (FORCE) by close(). */
export async function postgres(options: PostgresOptions = {}): Promise<Engine & { url: string; database: string }> {
  const database = `audsync_id_${randomBytes(6).toString('hex')}`;
  const locale = options.ctype ? ` TEMPLATE template0 LC_CTYPE '${options.ctype}' LC_COLLATE '${options.ctype}'` : '';
  await admin(`CREATE DATABASE ${database}${locale}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // the drop below ends the session
  await client.connect();
  return {
    name: 'postgres',
    d: postgresDialect,
    url: url.toString(),
    database,
    execute: async (sql) => {
      await client.query(sql);
    },
    query: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    async close() {
      await client.end().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}

export function openEngine(name: EngineName): Promise<Engine> {
  return name === 'duckdb' ? duckdb() : postgres();
}

// ---- the candidate, from raw inputs ---------------------------------------------------------------

/** Raw inputs of one model row: a value per identifier kind the row maps (NULL allowed). */
export type RawRow = Partial<Record<IdentifierKind, string | null>>;

/** A rule applied to a kind, named like the candidate's column: `<kind>__<rule>`. */
export interface KindRule {
  kind: IdentifierKind;
  rule: IdentifierRule;
}
export const ruleOf = (normalizer: string, encoding: 'sha256' | 'plain' = 'sha256', role: 'match' | 'attribute' = 'match'): IdentifierRule => ({
  role,
  normalizer,
  encoding,
});
export const columnOf = (i: KindRule) => normalizedColumn(i.kind, i.rule.normalizer);
/** Where CandidateOut.sent keeps a rule's output: its column, with ':plain' for plain encoding (two rules may share a column). */
export const sentKey = (i: KindRule) => (i.rule.encoding === 'plain' ? `${columnOf(i)}:plain` : columnOf(i));

export interface CandidateOut {
  /** n_<kind>__<rule>: the normalized value (NULL when invalid). */
  n: Record<string, string | null>;
  /** What encodeSql sends for it, by sentKey(). */
  sent: Record<string, string | null>;
  /** p_<kind>: a value is present. */
  present: Record<string, boolean>;
}

/**
 * Builds the real candidate table (candidateSql) from a model that is a VALUES table of `rows`, with
 * every kind in `kinds` mapped to a column of the same name, and reads back, in row order, each
 * rule's normalized value and what encodeSql makes of it.
 */
export async function candidateOf(engine: Engine, rows: RawRow[], identifiers: KindRule[], defaultRegion = 'US'): Promise<CandidateOut[]> {
  if (rows.length === 0) return [];
  const { d } = engine;
  const kinds = [...new Set(identifiers.map((i) => i.kind))];
  // The country column is mapped too when the rows carry one: it is the phone and zip region.
  const mapped = [...new Set([...kinds, ...(rows.some((r) => 'country' in r) ? (['country'] as const) : [])])];
  const columns = ['id', ...mapped];
  // The last line is not data: modelSubquery strips a trailing line that starts with '--', even inside
  // a string literal (pinned in test/sql/candidate.test.ts), and raw values may hold '\n--'.
  const sql = `SELECT * FROM (${d.valuesTable(columns, rows.map((r, i) => [String(i).padStart(6, '0'), ...mapped.map((k) => r[k] ?? null)]))}) AS m\nWHERE TRUE`;
  const model: ModelDef = {
    name: 'identity',
    file: 'models/identity.yml',
    tags: [],
    syncs: [],
    key: 'id',
    identifiers: Object.fromEntries(mapped.map((k) => [k, k])),
    sql,
  };
  await engine.execute(candidateSql(d, model, identifiers, { defaultRegion }));
  const columnsRead = [...new Set(identifiers.map(columnOf))];
  const encodings = [...new Map(identifiers.map((i) => [sentKey(i), i])).values()];
  const select = [
    'member_key',
    ...kinds.map((k) => `p_${k}`),
    ...columnsRead.map((c) => d.quoteIdent(c)),
    ...encodings.map((i) => `${encodeSql(d, i.rule, d.quoteIdent(columnOf(i)))} AS ${d.quoteIdent(`sent__${sentKey(i)}`)}`),
  ];
  const out = await engine.query<Record<string, unknown>>(
    `SELECT ${select.join(', ')} FROM ${d.quoteIdent(scratch.candidate(model.name))} ORDER BY member_key`,
  );
  if (out.length !== rows.length) throw new Error(`candidate has ${out.length} rows for ${rows.length} inputs`);
  return out.map((r) => ({
    n: Object.fromEntries(columnsRead.map((c) => [c, r[c] as string | null])),
    sent: Object.fromEntries(encodings.map((i) => [sentKey(i), r[`sent__${sentKey(i)}`] as string | null])),
    present: Object.fromEntries(kinds.map((k) => [k, r[`p_${k}`] as boolean])),
  }));
}
