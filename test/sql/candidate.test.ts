// candidate.ts: the per-model candidate table (key as text, consent, holdout split, updated_at,
// normalized identifiers), the key checks, and the holdout record, on DuckDB.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { candidateSql, duplicateKeysSql, keyCheckSql, modelSubquery, recordHoldoutsSql } from '../../src/warehouse/sql/candidate.js';
import { scratch } from '../../src/warehouse/sql/names.js';
import type { IdentifierRule } from '../../src/core/identifiers.js';
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
  db.query<{ member_key: string; consented: boolean; held_out: boolean; source_updated_at: Date | null; in_model: boolean; normalized: boolean; p_email: boolean; n_email__email: string | null }>(
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
  it('one row per model row: key as text, consent (NULL is no consent), no holdout, presence and normalized email', async () => {
    const sql = valuesSql({ id: 'INTEGER', email: 'VARCHAR', consent: 'BOOLEAN' }, [
      [1, ' Ana@Example.com ', true],
      [2, 'bo@example.com', false],
      [3, 'not-an-email', null],
      [4, null, true],
    ]);
    await buildCandidate(db.wh, model({ sql }));
    expect(await readCandidate()).toEqual([
      { member_key: '1', consented: true, held_out: false, source_updated_at: null, in_model: true, normalized: true, p_email: true, n_email__email: 'ana@example.com' },
      { member_key: '2', consented: false, held_out: false, source_updated_at: null, in_model: true, normalized: true, p_email: true, n_email__email: 'bo@example.com' },
      { member_key: '3', consented: false, held_out: false, source_updated_at: null, in_model: true, normalized: true, p_email: true, n_email__email: null },
      { member_key: '4', consented: true, held_out: false, source_updated_at: null, in_model: true, normalized: true, p_email: false, n_email__email: null },
    ]);
    const types = await db.query<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${CANDIDATE})`);
    expect(types).toEqual([
      { column_name: 'member_key', column_type: 'VARCHAR' },
      { column_name: 'in_model', column_type: 'BOOLEAN' },
      { column_name: 'consented', column_type: 'BOOLEAN' },
      { column_name: 'held_out', column_type: 'BOOLEAN' },
      { column_name: 'source_updated_at', column_type: 'TIMESTAMP' },
      { column_name: 'normalized', column_type: 'BOOLEAN' },
      { column_name: 'p_email', column_type: 'BOOLEAN' },
      { column_name: 'n_email__email', column_type: 'VARCHAR' },
    ]);
  });

  it('p_<kind> says a value is present (valid or not): NULL, empty and whitespace-only (Unicode too) are absent', async () => {
    const raws = [null, '', ' \t\n', '\u00a0\u3000', 'x', ' not-an-email ', 'a@b.io'];
    await buildCandidate(db.wh, membersModel(raws.map((email, i) => ({ id: `k${i}`, email }))));
    const rows = await readCandidate();
    expect(rows.map((r) => [r.member_key, r.p_email, r.n_email__email])).toEqual([
      ['k0', false, null],
      ['k1', false, null],
      ['k2', false, null],
      ['k3', false, null],
      ['k4', true, null],
      ['k5', true, null],
      ['k6', true, 'a@b.io'],
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

  // Fixed: ';' + '--' on the last line is a comment only when no quote follows it, so a string
  // literal holding ';--' is kept.
  it("keeps ';--' inside a string literal on the last line", async () => {
    const sql = "SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent WHERE 'a;--b' <> ''";
    await buildCandidate(db.wh, model({ sql }));
    expect((await readCandidate()).map((r) => r.member_key)).toEqual(['a']);
    expect(modelSubquery(model({ sql: "SELECT 1 AS id WHERE 'a;--b' <> ''" }))).toBe("(\nSELECT 1 AS id WHERE 'a;--b' <> ''\n)");
  });

  // modelSubquery reads the SQL (src/warehouse/sql/trailing.ts): only a terminator outside literals,
  // quoted names and comments, with nothing but whitespace and comments after it, is removed.
  it.each([
    ['a last line inside a string literal that starts with --', "SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent, '\n-- not a comment' AS note"],
    ["a trailing comment after ';' that holds an apostrophe", "SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent; -- don't edit"],
    ["a trailing comment after ';' that holds double quotes", `SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent; -- the "owner" column`],
    ["';--' inside a dollar-quoted literal", "SELECT 'a' AS id, 'a@x.io' AS email, TRUE AS consent, $$a;--b$$ AS note"],
  ])('keeps %s', async (_what, sql) => {
    await buildCandidate(db.wh, model({ sql }));
    expect((await readCandidate()).map((r) => r.member_key)).toEqual(['a']);
  });

  it('removes only a real terminator, with the comments after it', () => {
    expect(modelSubquery(model({ sql: "SELECT 1 AS id, '\n-- x' AS note" }))).toBe("(\nSELECT 1 AS id, '\n-- x' AS note\n)");
    expect(modelSubquery(model({ sql: "SELECT 1 AS id; -- don't edit" }))).toBe('(\nSELECT 1 AS id\n)');
    expect(modelSubquery(model({ sql: "SELECT 1 AS id; -- don't edit\n" }))).toBe('(\nSELECT 1 AS id\n)');
    expect(modelSubquery(model({ sql: 'SELECT $$a;--b$$ AS id' }))).toBe('(\nSELECT $$a;--b$$ AS id\n)');
    expect(modelSubquery(model({ sql: 'SELECT 1 AS id; -- owner: crm' }))).toBe('(\nSELECT 1 AS id\n)');
    expect(modelSubquery(model({ sql: "SELECT 1 AS id;\n-- don't edit" }))).toBe('(\nSELECT 1 AS id\n)');
    expect(modelSubquery(model({ sql: "SELECT ';' AS id;; /* end */" }))).toBe("(\nSELECT ';' AS id\n)");
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
    expect(sql).toContain(`(mod(CAST(('0x' || substr(sha256('it''s:' || src._audsync_key), 1, 8)) AS BIGINT), 10000) < 1250) AS held_out`);
  });

  it('builds a candidate with no identifier columns at all (no dangling comma)', async () => {
    await buildCandidate(db.wh, membersModel([{ id: 'a', email: 'a@x.io' }]), []);
    expect(await db.query(`SELECT member_key, consented FROM ${CANDIDATE}`)).toEqual([{ member_key: 'a', consented: true }]);
  });
});

const PHONE_DIGITS: IdentifierRule = { role: 'match', normalizer: 'phone_digits', encoding: 'sha256' };
const PHONE_E164: IdentifierRule = { role: 'match', normalizer: 'phone_e164', encoding: 'sha256' };
const ZIP: IdentifierRule = { role: 'attribute', normalizer: 'zip', encoding: 'sha256' };
const COUNTRY: IdentifierRule = { role: 'attribute', normalizer: 'country_lower', encoding: 'sha256' };

describe('regions and phones in the candidate', () => {
  /** Rows (id, phone, zip, country); country NULL means the model maps no country value for that row. */
  const phoneModel = (rows: [string, string | null, string | null, string | null][], mapCountry = true) =>
    model({
      sql: valuesSql({ id: 'VARCHAR', phone: 'VARCHAR', zip: 'VARCHAR', country: 'VARCHAR', consent: 'BOOLEAN' }, rows.map((r) => [...r, true])),
      identifiers: mapCountry ? { phone: 'phone', zip: 'zip', country: 'country' } : { phone: 'phone', zip: 'zip' },
    });
  const ids = (withCountry = true) => [
    { kind: 'phone' as const, rule: PHONE_DIGITS },
    { kind: 'phone' as const, rule: PHONE_E164 },
    { kind: 'zip' as const, rule: ZIP },
    ...(withCountry ? [{ kind: 'country' as const, rule: COUNTRY }] : []),
  ];
  const read = () =>
    db.query<{ member_key: string; n_phone__phone_digits: string | null; n_phone__phone_e164: string | null; n_zip__zip: string | null }>(
      `SELECT member_key, n_phone__phone_digits, n_phone__phone_e164, n_zip__zip FROM ${CANDIDATE} ORDER BY member_key`,
    );

  it("national numbers take the row's country, else the default region; an unknown country falls back to the default", async () => {
    const rows: [string, string | null, string | null, string | null][] = [
      ['a', '(415) 555-0134', '94105-1234', null], // no country: default
      ['b', '020 7946 0958', 'SW1A 1AA', ' gb '], // the row's country, padded, lower case
      ['c', '020 7946 0958', 'SW1A 1AA', 'Uk'], // the common mistake for GB
      ['d', '(415) 555-0134', '2134', 'XX'], // unknown: default (US), zip padded to 5
      ['e', '+44 20 7946 0958', null, 'US'], // international form ignores the region
    ];
    await db.wh.execute(candidateSql(d, phoneModel(rows), ids(), { defaultRegion: 'US' }));
    expect(await read()).toEqual([
      { member_key: 'a', n_phone__phone_digits: '14155550134', n_phone__phone_e164: '+14155550134', n_zip__zip: '94105' },
      { member_key: 'b', n_phone__phone_digits: '442079460958', n_phone__phone_e164: '+442079460958', n_zip__zip: 'sw1a1aa' },
      { member_key: 'c', n_phone__phone_digits: '442079460958', n_phone__phone_e164: '+442079460958', n_zip__zip: 'sw1a1aa' },
      { member_key: 'd', n_phone__phone_digits: '14155550134', n_phone__phone_e164: '+14155550134', n_zip__zip: '02134' },
      { member_key: 'e', n_phone__phone_digits: '442079460958', n_phone__phone_e164: '+442079460958', n_zip__zip: null },
    ]);
  });

  it('the default region comes from the options (defaults.default_country), also when no country is mapped', async () => {
    const rows: [string, string | null, string | null, string | null][] = [
      ['a', '020 7946 0958', 'SW1A 1AA', null],
      ['b', '(415) 555-0134', '94105', null],
    ];
    await db.wh.execute(candidateSql(d, phoneModel(rows, false), ids(false), { defaultRegion: 'GB' }));
    expect(await read()).toEqual([
      { member_key: 'a', n_phone__phone_digits: '442079460958', n_phone__phone_e164: '+442079460958', n_zip__zip: 'sw1a1aa' },
      // a US number read as British: '4155550134' has 10 digits, a possible British length
      { member_key: 'b', n_phone__phone_digits: '444155550134', n_phone__phone_e164: '+444155550134', n_zip__zip: '94105' },
    ]);
    await db.wh.execute(candidateSql(d, phoneModel(rows, false), ids(false), { defaultRegion: 'US' }));
    expect((await read()).map((r) => [r.member_key, r.n_phone__phone_digits, r.n_zip__zip])).toEqual([
      ['a', null, null], // 02079460958: 11 digits with no US trunk prefix; not a US zip either
      ['b', '14155550134', '94105'],
    ]);
  });

  it('an impossible length is invalid (NULL) but present; both phone rules share one parse', async () => {
    const rows: [string, string | null, string | null, string | null][] = [
      ['a', '555-0134', null, 'US'], // 7 digits: too short for +1
      ['b', '+1 415 555 01345', null, 'US'], // 11 national digits
      ['c', 'call me', null, 'US'],
      ['d', '   ', null, 'US'],
    ];
    await db.wh.execute(candidateSql(d, phoneModel(rows), ids()));
    const out = await db.query(`SELECT member_key, p_phone, n_phone__phone_digits, n_phone__phone_e164 FROM ${CANDIDATE} ORDER BY member_key`);
    expect(out).toEqual([
      { member_key: 'a', p_phone: true, n_phone__phone_digits: null, n_phone__phone_e164: null },
      { member_key: 'b', p_phone: true, n_phone__phone_digits: null, n_phone__phone_e164: null },
      { member_key: 'c', p_phone: true, n_phone__phone_digits: null, n_phone__phone_e164: null },
      { member_key: 'd', p_phone: false, n_phone__phone_digits: null, n_phone__phone_e164: null },
    ]);
    const sql = candidateSql(d, phoneModel([]), ids());
    expect(sql.match(/_audsync_ph1 AS \(/g)).toHaveLength(1);
  });

  it('builds the phone stages only when a phone rule is in use', () => {
    const m = phoneModel([]);
    expect(candidateSql(d, m, [{ kind: 'zip', rule: ZIP }])).not.toContain('_audsync_ph');
    expect(candidateSql(d, m, [{ kind: 'phone', rule: { ...PHONE_DIGITS, normalizer: 'trimmed' } }])).not.toContain('_audsync_ph');
    expect(candidateSql(d, { ...m, identifiers: { zip: 'zip' } }, [{ kind: 'phone', rule: PHONE_DIGITS }])).not.toContain('_audsync_ph');
    expect(candidateSql(d, m, [{ kind: 'phone', rule: PHONE_DIGITS }])).toContain('_audsync_ph5');
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
  it('keyCheckSql counts rows, NULL keys, distinct keys and normalized rows in one pass', async () => {
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
    expect(await db.query(keyCheckSql(d, 'buyers'))).toEqual([{ row_count: 5, null_keys: 2, distinct_keys: 2, normalized_rows: 5 }]);
  });

  it('duplicateKeysSql lists at most three duplicated keys, in key order, with their counts; never NULL', async () => {
    const ids = ['d', 'd', 'c', 'c', 'c', 'b', 'b', 'a', 'a', 'z', null, null];
    const m = membersModel(ids.map((id) => ({ id, email: null })));
    expect(await db.query(duplicateKeysSql(d, m))).toEqual([
      { member_key: 'a', occurrences: 2 },
      { member_key: 'b', occurrences: 2 },
      { member_key: 'c', occurrences: 3 },
    ]);
  });

  it('integer keys are checked as the text they are stored as', async () => {
    const sql = `SELECT * FROM (VALUES (1), (1), (2)) v(id)`;
    const m = model({ sql, identifiers: {}, consent: undefined });
    await buildCandidate(db.wh, m, []);
    expect(await db.query(keyCheckSql(d, 'buyers'))).toEqual([{ row_count: 3, null_keys: 0, distinct_keys: 2, normalized_rows: 3 }]);
    expect(await db.query(duplicateKeysSql(d, m))).toEqual([{ member_key: '1', occurrences: 2 }]);
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
