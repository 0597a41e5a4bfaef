// candidate.ts: the per-model candidate table (key as text, consent, holdout split, updated_at,
// normalized identifiers), the key checks, and the holdout record, on DuckDB.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { candidateSql, duplicateKeysSql, keyCheckSql, modelSubquery, recordHoldoutsSql } from '../../src/warehouse/sql/candidate.js';
import { scratch } from '../../src/warehouse/sql/names.js';
import { buildCandidate, d, EMAIL_IDS, EMAIL_RULE, membersModel, model, openDb, sha256, t, valuesSql, type TestDb } from './support.js';

let db: TestDb;
beforeEach(async () => {
  db = await openDb({ migrate: true });
});
afterEach(async () => {
  await db.close();
});

const CANDIDATE = d.quoteIdent(scratch.candidate('buyers'));
const readCandidate = () =>
  db.query<{ member_key: string; consented: boolean; held_out: boolean; source_updated_at: Date | null; n_email__email: string | null }>(
    `SELECT * FROM ${CANDIDATE} ORDER BY member_key`,
  );

/** A model of `n` members k0..k(n-1), all consented, with a holdout. */
const population = (n: number, holdout: { percent: number; salt: string }) =>
  model({ sql: `SELECT 'k' || i AS id, 'u' || i || '@example.com' AS email, TRUE AS consent FROM range(${n}) t(i)`, holdout });
const controlKeys = async () =>
  new Set((await db.query<{ member_key: string }>(`SELECT member_key FROM ${CANDIDATE} WHERE held_out`)).map((r) => r.member_key));
/** The documented split: first 8 hex digits of sha256('<salt>:<key>') mod 10000, below percent x 100. */
const refHeldOut = (salt: string, key: string, percent: number) => parseInt(sha256(`${salt}:${key}`).slice(0, 8), 16) % 10000 < Math.round(percent * 100);

describe('candidateSql on DuckDB', () => {
  it('one row per model row: key as text, consent (NULL is no consent), no holdout, normalized email', async () => {
    const sql = valuesSql({ id: 'INTEGER', email: 'VARCHAR', consent: 'BOOLEAN' }, [
      [1, ' Ana@Example.com ', true],
      [2, 'bo@example.com', false],
      [3, 'not-an-email', null],
    ]);
    await buildCandidate(db.wh, model({ sql }));
    expect(await readCandidate()).toEqual([
      { member_key: '1', consented: true, held_out: false, source_updated_at: null, n_email__email: 'ana@example.com' },
      { member_key: '2', consented: false, held_out: false, source_updated_at: null, n_email__email: 'bo@example.com' },
      { member_key: '3', consented: false, held_out: false, source_updated_at: null, n_email__email: null },
    ]);
    const types = await db.query<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${CANDIDATE})`);
    expect(types).toEqual([
      { column_name: 'member_key', column_type: 'VARCHAR' },
      { column_name: 'consented', column_type: 'BOOLEAN' },
      { column_name: 'held_out', column_type: 'BOOLEAN' },
      { column_name: 'source_updated_at', column_type: 'TIMESTAMP' },
      { column_name: 'n_email__email', column_type: 'VARCHAR' },
    ]);
  });

  it('without a consent column every row is consented', async () => {
    await buildCandidate(db.wh, membersModel([{ id: 'a', email: 'a@x.io', consent: false }], { consent: undefined }));
    expect((await readCandidate()).map((r) => r.consented)).toEqual([true]);
  });

  it('reads updated_at as a timestamp', async () => {
    const sql = `SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent, '2026-03-01 12:34:56' AS changed`;
    await buildCandidate(db.wh, model({ sql, updatedAt: 'changed' }));
    expect((await readCandidate())[0]!.source_updated_at).toEqual(new Date('2026-03-01T12:34:56Z'));
  });

  it("accepts a model ending in ';', or in a '--' comment, and quoted column names", async () => {
    for (const tail of [';', ';;  \n', '\n-- trailing comment', ' -- trailing comment']) {
      const sql = `SELECT 'a' AS "Customer ID", 'a@x.io' AS "E-mail", TRUE AS consent${tail}`;
      await buildCandidate(db.wh, model({ sql, key: 'Customer ID', identifiers: { email: 'E-mail' } }));
      expect((await readCandidate()).map((r) => [r.member_key, r.n_email__email])).toEqual([['a', 'a@x.io']]);
    }
    expect(modelSubquery(model({ sql: 'SELECT 1;;  \n' }))).toBe('(\nSELECT 1\n)');
  });

  // A .sql file that ends with its statement's ';' and then a comment line (common in SQL files).
  it("accepts a model whose ';' is followed by a trailing comment", async () => {
    const sql = `SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent;\n-- owner: crm`;
    await buildCandidate(db.wh, model({ sql }));
    expect((await readCandidate()).map((r) => r.member_key)).toEqual(['a']);
  });

  it('normalizes a kind once per rule, however many syncs ask for it; skips kinds the model does not map', () => {
    const sql = candidateSql(d, membersModel([]), [
      ...EMAIL_IDS,
      { kind: 'email', rule: { ...EMAIL_RULE, encoding: 'plain' } },
      { kind: 'phone', rule: { role: 'match', normalizer: 'trimmed', encoding: 'sha256' } },
    ]);
    expect(sql.match(/AS "n_email__email"/g)).toHaveLength(1);
    expect(sql).not.toContain('n_phone');
    expect(sql).toMatch(/^CREATE OR REPLACE TEMP TABLE "_audsync_candidate_buyers" AS\n/);
  });

  it('splits the holdout on the first 8 hex digits of sha256(salt:key), below percent x 100 of 10000', () => {
    const sql = candidateSql(d, { ...membersModel([]), holdout: { percent: 12.5, salt: "it's" } }, EMAIL_IDS);
    expect(sql).toContain(`(CAST(('0x' || substr(sha256('it''s:' || CAST(src."id" AS VARCHAR)), 1, 8)) AS BIGINT) % 10000 < 1250) AS held_out`);
  });

  it('builds a candidate with no identifier columns at all (no dangling comma)', async () => {
    await buildCandidate(db.wh, membersModel([{ id: 'a', email: 'a@x.io' }]), []);
    expect(await db.query(`SELECT member_key, consented FROM ${CANDIDATE}`)).toEqual([{ member_key: 'a', consented: true }]);
  });
});

describe('holdout split', () => {
  it('follows sha256(salt:key): the same salt and key give the same group in any run and any row order', async () => {
    const m = population(2000, { percent: 10, salt: '2026q4' });
    await buildCandidate(db.wh, m);
    const first = await controlKeys();
    const other = await openDb();
    try {
      await other.wh.execute(candidateSql(d, { ...m, sql: `${m.sql} ORDER BY random()` }, EMAIL_IDS));
      const again = new Set(
        (await other.query<{ member_key: string }>(`SELECT member_key FROM ${CANDIDATE} WHERE held_out`)).map((r) => r.member_key),
      );
      expect(again).toEqual(first);
    } finally {
      await other.close();
    }
    const expected = new Set(Array.from({ length: 2000 }, (_, i) => `k${i}`).filter((k) => refHeldOut('2026q4', k, 10)));
    expect(first).toEqual(expected);
  });

  it('puts about percent of 10,000 members in control (within 4 standard deviations)', async () => {
    await buildCandidate(db.wh, population(10_000, { percent: 10, salt: 's1' }));
    const control = (await controlKeys()).size;
    expect(Math.abs(control - 1000)).toBeLessThanOrEqual(120); // sd = sqrt(10000 * 0.1 * 0.9) = 30
  });

  it('honours fractional percents, 0 and 100', async () => {
    const n = 10_000;
    await buildCandidate(db.wh, population(n, { percent: 2.5, salt: 's1' }));
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    expect(await controlKeys()).toEqual(new Set(keys.filter((k) => refHeldOut('s1', k, 2.5))));
    await buildCandidate(db.wh, population(500, { percent: 0, salt: 's1' }));
    expect((await controlKeys()).size).toBe(0);
    await buildCandidate(db.wh, population(500, { percent: 100, salt: 's1' }));
    expect((await controlKeys()).size).toBe(500);
  });

  it('a different salt reshuffles the control group', async () => {
    await buildCandidate(db.wh, population(10_000, { percent: 10, salt: 'a' }));
    const a = await controlKeys();
    await buildCandidate(db.wh, population(10_000, { percent: 10, salt: 'b' }));
    const b = await controlKeys();
    const overlap = [...a].filter((k) => b.has(k)).length;
    expect(Math.abs(b.size - 1000)).toBeLessThanOrEqual(120);
    expect(overlap).toBeLessThan(200); // independent draws overlap by ~10% of 1000
  });

  it('recordHoldoutsSql keeps the first assignment per model, salt and member; consented members only', async () => {
    const m = { ...membersModel([{ id: 'a', email: 'a@x.io' }, { id: 'b', email: 'b@x.io', consent: false }]), holdout: { percent: 50, salt: 's' } };
    await buildCandidate(db.wh, m);
    await db.wh.execute(recordHoldoutsSql(d, m, t.holdouts, '2026-01-01T00:00:00.000Z'));
    await buildCandidate(db.wh, { ...m, holdout: { percent: 100, salt: 's' } }); // everyone in control now
    await db.wh.execute(recordHoldoutsSql(d, m, t.holdouts, '2026-02-01T00:00:00.000Z'));
    const rows = await db.query(`SELECT model, member_key, "group", salt, assigned_at FROM ${t.holdouts} ORDER BY member_key`);
    expect(rows).toEqual([
      { model: 'buyers', member_key: 'a', group: refHeldOut('s', 'a', 50) ? 'control' : 'treatment', salt: 's', assigned_at: new Date('2026-01-01T00:00:00Z') },
    ]);
  });
});

describe('key checks', () => {
  it('keyCheckSql counts rows, NULL keys and distinct keys in one pass', async () => {
    await buildCandidate(
      db.wh,
      membersModel([
        { id: 'a', email: null },
        { id: 'a', email: null },
        { id: 'b', email: null },
        { id: null, email: null },
        { id: null, email: null },
      ]),
    );
    expect(await db.query(keyCheckSql(d, 'buyers'))).toEqual([{ row_count: 5, null_keys: 2, distinct_keys: 2 }]);
  });

  it('duplicateKeysSql lists at most three duplicated keys, in key order, with their counts; never NULL', async () => {
    const ids = ['d', 'd', 'c', 'c', 'c', 'b', 'b', 'a', 'a', 'z', null, null];
    await buildCandidate(db.wh, membersModel(ids.map((id) => ({ id, email: null }))));
    expect(await db.query(duplicateKeysSql(d, 'buyers'))).toEqual([
      { member_key: 'a', occurrences: 2 },
      { member_key: 'b', occurrences: 2 },
      { member_key: 'c', occurrences: 3 },
    ]);
  });

  it('integer keys are checked as the text they are stored as', async () => {
    const sql = `SELECT * FROM (VALUES (1), (1), (2)) v(id)`;
    await buildCandidate(db.wh, model({ sql, identifiers: {}, consent: undefined }), []);
    expect(await db.query(keyCheckSql(d, 'buyers'))).toEqual([{ row_count: 3, null_keys: 0, distinct_keys: 2 }]);
    expect(await db.query(duplicateKeysSql(d, 'buyers'))).toEqual([{ member_key: '1', occurrences: 2 }]);
  });
});

describe('updated_at and the machine time zone', () => {
  // contract.md: "Timestamps are UTC". A TIMESTAMPTZ updated_at cast to TIMESTAMP takes DuckDB's
  // TimeZone setting, which DuckDB takes from the machine; run the candidate in a child process
  // whose TZ is New York and read source_updated_at back.
  it('a TIMESTAMPTZ updated_at lands in source_updated_at as UTC whatever the machine time zone', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const code = `
      const { definition } = await import('./src/warehouse/duckdb/index.ts');
      const { candidateSql } = await import('./src/warehouse/sql/candidate.ts');
      const { duckdbDialect } = await import('./src/warehouse/sql/dialects/duckdb.ts');
      const wh = await definition.connect({ path: ':memory:' }, { projectDir: process.cwd() });
      const model = { name: 'm', file: 'm.yml', tags: [], syncs: [], key: 'id', identifiers: {}, updatedAt: 'changed',
        sql: "SELECT 'a' AS id, TIMESTAMPTZ '2026-03-01 12:00:00+00' AS changed" };
      await wh.execute(candidateSql(duckdbDialect, model, []));
      const [row] = await wh.query('SELECT source_updated_at FROM "_audsync_candidate_m"');
      const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      console.log(JSON.stringify({ tz, at: row.source_updated_at.toISOString() }));
      await wh.close();`;
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...process.env, TZ: 'America/New_York' } }, (error, stdout) =>
        error ? fail(error) : done(stdout),
      ),
    );
    const { tz, at } = JSON.parse(out) as { tz: string; at: string };
    expect(tz).toBe('America/New_York'); // the child process did run in another zone
    expect(at).toBe('2026-03-01T12:00:00.000Z');
  });
});
