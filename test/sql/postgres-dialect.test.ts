// The Postgres dialect's text for every step: Postgres functions and types, nothing DuckDB-only.
// Then the same SQL run on a real Postgres (AUDSYNC_TEST_PG_URL, see test/support/postgres.ts) and
// on DuckDB side by side: the normalization rules and a whole sync's delta and parts must agree.
import { categoryClass } from '../../src/warehouse/sql/unicode.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifierKind, IdentifierRule } from '../../src/core/identifiers.js';
import { metaCapabilities } from '../../src/platforms/meta/capabilities.js';
import { literal, type SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { holdBackAddsSql } from '../../src/warehouse/sql/outcome.js';
import { normalizerNames, usesPhone } from '../../src/warehouse/sql/normalize.js';
import { scratch } from '../../src/warehouse/sql/names.js';
import { openEngine, type Engine } from './engines.js';
import { insertRunSql, finishRunSql } from '../../src/warehouse/sql/audit.js';
import { candidateSql, duplicateKeysSql, keyCheckSql, recordHoldoutsSql } from '../../src/warehouse/sql/candidate.js';
import { commitSql } from '../../src/warehouse/sql/commit.js';
import { deltaSql, removedColumn } from '../../src/warehouse/sql/delta.js';
import { partsSql } from '../../src/warehouse/sql/parts.js';
import { memberCountsSql } from '../../src/warehouse/sql/members.js';
import { sqlDialect } from '../../src/warehouse/sql/dialect.js';
import { postgresDialect as pg } from '../../src/warehouse/sql/dialects/postgres.js';
import { encodeSql, normalizeSql, regionSql, WS } from '../../src/warehouse/sql/normalize.js';
import { memberResultsSql, rowsToSendSql } from '../../src/warehouse/sql/outcome.js';
import { EMAIL_RULE, model, spec } from './support.js';
import { stateTables } from '../../src/warehouse/sql/names.js';

const t = stateTables(pg, 'audsync');
const ids = [
  { kind: 'email' as const, rule: EMAIL_RULE },
  { kind: 'external_id' as const, rule: { role: 'match' as const, normalizer: 'trimmed', encoding: 'sha256' as const } },
  { kind: 'country' as const, rule: { role: 'attribute' as const, normalizer: 'trimmed', encoding: 'plain' as const } },
];
const m = model({
  sql: 'SELECT id, email, country, consent, updated_at FROM crm.customers',
  identifiers: { email: 'email', external_id: 'id', country: 'country' },
  updatedAt: 'updated_at',
  holdout: { percent: 10, salt: "q'4" },
});
const s = spec({ identifiers: ids });
const NOW = '2026-02-01T00:00:00.000Z';

const steps: Record<string, string> = {
  candidate: candidateSql(pg, m, ids),
  keyCheck: keyCheckSql(pg, 'buyers'),
  duplicates: duplicateKeysSql(pg, m),
  holdouts: recordHoldoutsSql(pg, m, t.holdouts, NOW),
  counts: memberCountsSql(pg, s),
  delta: deltaSql(pg, s, t.snapshots),
  parts: partsSql(pg, s, t.snapshots),
  sendAdd: rowsToSendSql(pg, s, 'add', t.deliveries, 'r1').sql,
  sendRemove: rowsToSendSql(pg, s, 'remove', t.deliveries, 'r1').sql,
  results: memberResultsSql(pg, s, t.deliveries, 'r1', 'not sent'),
  commit: commitSql(pg, s, t, { runId: 'r1', nowIso: NOW, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'a1' }).join(';\n'),
  runs:
    insertRunSql(pg, t, {
      run_id: 'r1', invocation_id: 'i1', sync_id: s.syncId, model: 'buyers', destination: 'meta', mode: 'mirror', target: 'ci',
      started_at: NOW, model_sql_sha256: 'x', audsync_version: '0', full_refresh: false,
    }) +
    finishRunSql(pg, t, 'r1', {
      status: 'success', finished_at: NOW, audience_id: 'a1', members: 1, added: 1, removed: 0, changed: 0, failed: 0, invalid: 0,
      held_out: 0, no_consent: 0, rows_sent: 1, requests: 1, error_message: null,
    }),
};

// Functions and syntax that exist in DuckDB but not in Postgres.
const DUCKDB_ONLY: [string, RegExp][] = [
  ['regexp_full_match', /regexp_full_match\s*\(/i],
  ['hash()', /(?<![a-z_])hash\s*\(/i],
  ['sha256 of text (Postgres hashes bytea)', /sha256\((?!convert_to\()/i],
  ['CREATE OR REPLACE TEMP TABLE', /CREATE OR REPLACE/i],
  ['temp. schema', /\btemp\./i],
  ['0x hex cast', /'0x'/],
  ['VARCHAR / TIMESTAMP without zone', /\bVARCHAR\b|\bTIMESTAMP\b(?!TZ)/],
  ['UBIGINT / >> shift', /UBIGINT|>>/],
];

describe('Postgres dialect text', () => {
  it.each(Object.entries(steps))('%s uses nothing DuckDB-only', (_step, sql) => {
    const found = DUCKDB_ONLY.filter(([, re]) => re.test(sql)).map(([name]) => name);
    expect(found).toEqual([]);
  });

  it('the DuckDB-only checks do catch DuckDB SQL (so the test above can fail)', () => {
    const duck = sqlDialect('duckdb');
    const sql = [candidateSql(duck, m, ids), deltaSql(duck, s, t.snapshots)].join('\n');
    expect(DUCKDB_ONLY.filter(([, re]) => re.test(sql)).map(([name]) => name)).toEqual([
      'regexp_full_match', 'hash()', 'sha256 of text (Postgres hashes bytea)', 'CREATE OR REPLACE TEMP TABLE', '0x hex cast',
      'VARCHAR / TIMESTAMP without zone', 'UBIGINT / >> shift',
    ]);
  });

  it('is what sqlDialect("postgres") returns', () => {
    expect(sqlDialect('postgres')).toBe(pg);
    expect(() => sqlDialect('oracle' as never)).toThrow('no SQL dialect for oracle yet'); // bigquery and snowflake have theirs now
  });

  it('hashes with encode(sha256(convert_to(..., UTF8)), hex): holdout in the candidate, identifiers in the delta', () => {
    expect(steps.candidate).toContain(`encode(sha256(convert_to('q''4:' || src._audsync_key, 'UTF8')), 'hex')`);
    expect(steps.delta).toContain(`encode(sha256(convert_to(c.n_email, 'UTF8')), 'hex') END AS new_email`);
    expect(steps.delta).toContain(`encode(sha256(convert_to(c.n_external_id, 'UTF8')), 'hex') END AS new_external_id`);
    expect(steps.delta).toContain('c.n_country AS new_country'); // plain attribute, not hashed
  });

  it('splits the holdout on the first 8 hex digits as bit(32) -> bigint, mod 10000', () => {
    expect(steps.candidate).toContain(`(mod((('x' || substr(encode(sha256(convert_to('q''4:' || src._audsync_key, 'UTF8')), 'hex'), 1, 8))::bit(32)::bigint), 10000) < 1000) AS held_out`);
  });

  it('fingerprints with hashtextextended over every kind, NULLs marked, separated by chr(31)', () => {
    expect(steps.delta).toContain(
      `hashtextextended(concat_ws(chr(31), coalesce('email:email:sha256', chr(30)), coalesce("n_email__email", chr(30)), ` +
        `coalesce('external_id:trimmed:sha256', chr(30)), coalesce("n_external_id__trimmed", chr(30)), ` +
        `coalesce('country:trimmed:plain', chr(30)), coalesce("n_country__trimmed", chr(30))), 0) AS fingerprint`,
    );
  });

  it('validates with anchored ~ matches and casts to TEXT and TIMESTAMPTZ', () => {
    const email = normalizeSql(pg, EMAIL_RULE, { column: 'x', region: "'US'", phoneDigits: 'p', countryCode: 'NULL' });
    expect(email).toMatch(/lower\(regexp_replace\(regexp_replace\(CAST\(x AS TEXT\), '\[\\s[^']*\]\+', '', 'g'\)/);
    expect(email).toContain(`~ '^(?:[0-9a-f]{64})$')`);
    expect(email).toContain(`~ '^(?:[^@]+@[^@]+\\.[^@]+)$')`);
    expect(encodeSql(pg, EMAIL_RULE, 'n')).toBe(`CASE WHEN (n ~ '^(?:[0-9a-f]{64})$') THEN n ELSE encode(sha256(convert_to(n, 'UTF8')), 'hex') END`);
    expect(steps.candidate).toContain('CAST(src."updated_at" AS TIMESTAMPTZ) AS source_updated_at');
  });

  it('passes an existing hash through, for every rule sent hashed, with an anchored ~ match', () => {
    const ws = `[${WS}]+`;
    const hashed = `lower(regexp_replace(CAST(src."id" AS TEXT), '^${ws}|${ws}$', '', 'g'))`;
    expect(steps.candidate).toContain(
      `CASE WHEN length(CAST(src."id" AS TEXT)) >= 64 AND (${hashed} ~ '^(?:[0-9a-f]{64})$') THEN ${hashed} ELSE NULLIF(regexp_replace(CAST(src."id" AS TEXT), '^${ws}|${ws}$', '', 'g'), '') END AS "n_external_id__trimmed"`,
    );
    // the country is sent plain here: no pass-through
    expect(steps.candidate).toContain(`NULLIF(regexp_replace(CAST(src."country" AS TEXT), '^${ws}|${ws}$', '', 'g'), '') AS "n_country__trimmed"`);
  });

  it('keeps letters with [:alpha:] after normalize(..., NFC) for names, cities and states, then takes numbers out (glibc counts some as letters)', () => {
    const numbers = `'[${categoryClass('N')}]+'`;
    expect(categoryClass('N')).toContain('٠-٩'); // Arabic-Indic digits
    expect(pg.lettersOnly('x')).toBe(`regexp_replace(regexp_replace(normalize(x, NFC), '[^[:alpha:]]+', '', 'g'), ${numbers}, '', 'g')`);
    const name = normalizeSql(pg, { role: 'attribute', normalizer: 'name', encoding: 'plain' }, { column: 'x', region: "'US'", phoneDigits: 'p', countryCode: 'NULL' });
    expect(name).toBe(`NULLIF(lower(regexp_replace(regexp_replace(normalize(CAST(x AS TEXT), NFC), '[^[:alpha:]]+', '', 'g'), ${numbers}, '', 'g')), '')`);
  });

  it("reads the row's country once, by its letters, joined to English names, aliases and two-letter codes", () => {
    const letters = `lower(${pg.lettersOnly('CAST(src."country" AS TEXT)')})`;
    expect(steps.candidate).toContain(`_audsync_regions AS (SELECT * FROM (VALUES ('afghanistan', 'AF'), `);
    expect(steps.candidate).toContain(`('germany', 'DE')`);
    expect(steps.candidate).toContain(`('ac', 'AC')`);
    expect(steps.candidate).toContain(`_audsync_l0 AS (SELECT src.*, ${letters} AS _audsync_country_letters FROM _audsync_m src)`);
    expect(steps.candidate).toContain(
      `_audsync_s0 AS (SELECT l.*, r.code AS _audsync_country FROM _audsync_l0 l LEFT JOIN _audsync_regions r ON r.letters = l._audsync_country_letters)`,
    );
    expect(steps.candidate).toContain(`_audsync_s1 AS (SELECT s.*, coalesce(s._audsync_country, 'US') AS _audsync_region FROM _audsync_s0 s)`);
  });

  it('keeps the full ISO instant in TIMESTAMPTZ literals (UTC, zone kept)', () => {
    expect(steps.commit).toContain(`CAST('2026-02-01T00:00:00.000Z' AS TIMESTAMPTZ)`);
    expect(steps.holdouts).toContain(`CAST('2026-02-01T00:00:00.000Z' AS TIMESTAMPTZ)`);
    expect(steps.runs).toContain(`finished_at = CAST('2026-02-01T00:00:00.000Z' AS TIMESTAMPTZ)`);
  });

  it('rebuilds scratch tables as session temp tables in pg_temp', () => {
    for (const [step, name] of [['candidate', '_audsync_candidate_buyers'], ['delta', '_audsync_delta_0'], ['parts', '_audsync_parts_0'], ['results', '_audsync_result_0']] as const) {
      expect(steps[step]).toMatch(new RegExp(`^DROP TABLE IF EXISTS pg_temp\\."${name}";\\nCREATE TEMP TABLE "${name}" AS\\n`));
    }
  });

  it('records holdouts with ON CONFLICT DO NOTHING and a quoted "group"', () => {
    expect(steps.holdouts).toMatch(/^INSERT INTO "audsync"\.audsync_holdouts \("model", "member_key", "group", "salt", "assigned_at"\)\n/);
    expect(steps.holdouts).toMatch(/\nON CONFLICT DO NOTHING$/);
  });

  it('blanks shared match keys in removes and numbers parts with dense_rank', () => {
    expect(steps.parts).toContain('CASE WHEN (dl.oldh_email IS NOT NULL AND a_email.v IS NULL) THEN dl.oldh_email END AS email');
    expect(steps.parts).toContain('CASE WHEN (dl.oldh_external_id IS NOT NULL AND a_external_id.v IS NULL) THEN dl.oldh_external_id END AS external_id');
    expect(steps.parts).toContain('dl.old_country AS country');
    expect(steps.parts).toContain('dense_rank() OVER (ORDER BY op, email, external_id, country) AS row_id');
  });
});

// ---- run on a real Postgres, next to DuckDB ---------------------------------------------------


/** Every value as TEXT, so both engines read the same literals; boolean columns named in `bools`. */
function rowsSql(d: SqlDialect, columns: string[], rows: (string | boolean | null)[][], bools: string[] = []): string {
  const type = (c: string) => (bools.includes(c) ? 'BOOLEAN' : 'TEXT');
  const typed = `SELECT ${columns.map((c) => `CAST(NULL AS ${type(c)}) AS "${c}"`).join(', ')} WHERE FALSE`;
  if (rows.length === 0) return typed;
  const values = rows.map((r) => `(${r.map((v, i) => `CAST(${literal(d, v)} AS ${type(columns[i]!)})`).join(', ')})`).join(',\n  ');
  return `${typed}\nUNION ALL\nSELECT * FROM (VALUES\n  ${values}\n) AS v(${columns.map((c) => `"${c}"`).join(', ')})`;
}

/** One normalization rule over many raw values (with a region per row), in input order. */
async function normalizeOn(e: Engine, rule: IdentifierRule, raws: [string | null, string][]): Promise<{ n: string | null; h: string | null }[]> {
  const input = rowsSql(e.d, ['i', 'raw', 'region'], raws.map(([raw, region], i) => [String(i).padStart(5, '0'), raw, region]));
  const n = normalizeSql(e.d, rule, { column: 'input.raw', region: 'input.region', phoneDigits: 'NULL', countryCode: regionSql(e.d, 'input.raw') });
  return e.wh.query(`WITH input AS (${input}), normalized AS (SELECT i, ${n} AS n FROM input)
SELECT n, ${encodeSql(e.d, rule, 'n')} AS h FROM normalized ORDER BY i`);
}

const HASH = 'e4f0c3d2b1a0e4f0c3d2b1a0e4f0c3d2b1a0e4f0c3d2b1a0e4f0c3d2b1a0e4f0';
const MESSY = [
  '  Ana@Example.COM ', '\tana@example.com\r\n', 'a na @exa mple. com', 'JOSÉ@Exämple.com', 'Ana.B+ads@gmail.com', 'A.N.A+x@GoogleMail.com',
  '\u00a0bo@example.com\u3000', '\ufeffcy@example.com\u202f', '.dee@example.com.', 'ana@example', '@example.com', 'ana@b@example.com', '', ' \t ',
  `  ${HASH.toUpperCase()}\n`, HASH.slice(1), "O'Brien-Smith Jr.", '  Zoë  van der Berg ', 'Łukasz 2nd', 'Ἀθηνᾶ', '日本', '  NY ', 'n.y.',
  '02134', '2134-1234', '021341234', ' sw1a 1aa ', '90210-12', 'us', ' u.k. ', 'Deutschland', 'DE',
  '6F9619FF-8B86-D011-B42D-00CFFB0E1B2E', '00000000-0000-0000-0000-000000000000', ' ext-42 ', '\u2003X-9\u2003',
  'Germany', 'United States', ' u.s.a. ', 'AUT', 'Türkiye', 'gmail.com', '94105 1234', 'Jose\u0301', 'Ann🙂', 'Müller®', HASH,
];
const REGIONS = ['US', 'GB', 'DE'];

describe('on a real Postgres, next to DuckDB', () => {
  let pgE: Engine;
  let duck: Engine;
  beforeAll(async () => {
    [pgE, duck] = await Promise.all([openEngine('postgres'), openEngine('duckdb')]);
  });
  afterAll(async () => {
    await Promise.all([pgE?.close(), duck?.close()]);
  });

  it('the email rule: normalized, validated and hashed in SQL, as node:crypto hashes it', async () => {
    const out = await normalizeOn(pgE, EMAIL_RULE, [
      ['  Ana@Example.COM ', 'US'],
      ['JOSÉ@Exämple.com', 'US'],
      ['\u00a0bo@example.com\u3000', 'US'],
      [`  ${HASH.toUpperCase()}\n`, 'US'],
      ['ana@example', 'US'],
      [null, 'US'],
    ]);
    const { createHash } = await import('node:crypto');
    const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');
    expect(out).toEqual([
      { n: 'ana@example.com', h: sha('ana@example.com') },
      { n: 'josé@exämple.com', h: sha('josé@exämple.com') },
      { n: 'bo@example.com', h: sha('bo@example.com') },
      { n: HASH, h: HASH }, // already a hash: passed through, never hashed twice
      { n: null, h: null },
      { n: null, h: null },
    ]);
  });

  it('the email rule agrees with DuckDB on random messy strings (fast-check)', async () => {
    const unit = fc.constantFrom(...' \t\n\u00a0\u3000abcxyzABCXYZ019éÉüßЖΩ日@@@..-+_\'"%\\');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit, maxLength: 20 }), { minLength: 1, maxLength: 200 }), async (raws) => {
        const input = raws.map((r): [string, string] => [r, 'US']);
        expect(await normalizeOn(pgE, EMAIL_RULE, input)).toEqual(await normalizeOn(duck, EMAIL_RULE, input));
      }),
      { numRuns: 15 },
    );
  });

  const plainRules = normalizerNames().filter((name) => !usesPhone({ role: 'match', normalizer: name, encoding: 'sha256' }));
  it.each(plainRules)('rule %s gives what it gives on DuckDB, for every messy value and region', async (normalizer) => {
    const rule: IdentifierRule = { role: 'match', normalizer, encoding: 'sha256' };
    const input = REGIONS.flatMap((region) => [...MESSY, null].map((raw): [string | null, string] => [raw, region]));
    const [onPg, onDuck] = [await normalizeOn(pgE, rule, input), await normalizeOn(duck, rule, input)];
    const differing = input.flatMap(([raw, region], i) =>
      onPg[i]!.n === onDuck[i]!.n ? [] : [{ raw, region, postgres: onPg[i]!.n, duckdb: onDuck[i]!.n }],
    );
    expect(differing).toEqual([]);
    expect(onPg.map((o) => o.h)).toEqual(onDuck.map((o) => o.h));
  });

  it('holds out the same members as DuckDB (the bucket is the first 32 bits of a SHA-256)', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => [`M${i}`, `m${i}@example.com`, true] as (string | boolean)[]);
    const heldOut = async (e: Engine) => {
      const m = model({ sql: rowsSql(e.d, ['id', 'email', 'consent'], rows, ['consent']), holdout: { percent: 25, salt: "s'1" } });
      await e.wh.execute(candidateSql(e.d, m, [{ kind: 'email', rule: EMAIL_RULE }]));
      return (await e.wh.query<{ member_key: string }>(`SELECT member_key FROM ${e.d.quoteIdent(scratch.candidate(m.name))} WHERE held_out ORDER BY member_key`)).map((r) => r.member_key);
    };
    const onPg = await heldOut(pgE);
    expect(onPg).toEqual(await heldOut(duck));
    expect(onPg.length).toBeGreaterThan(60); // about a quarter of 400
    expect(onPg.length).toBeLessThan(140);
  });

  it('two models whose long names share their first 63 bytes keep a scratch table each (Postgres truncates names)', async () => {
    const long = 'customers_who_bought_in_the_last_fourteen_days_and_did_not_return';
    const [one, two] = [`${long}_anything`, `${long}_at_all`].map((name, i) =>
      model({ name, sql: rowsSql(pg, ['id', 'email', 'consent'], Array.from({ length: i + 1 }, (_, j) => [`K${j}`, `k${j}@example.com`, true]), ['consent']) }),
    );
    for (const m of [one!, two!]) await pgE.wh.execute(candidateSql(pg, m, [{ kind: 'email', rule: EMAIL_RULE }]));
    const count = async (name: string) => (await pgE.wh.query(`SELECT count(*) AS n FROM ${pg.quoteIdent(scratch.candidate(name))}`))[0];
    expect([await count(one!.name), await count(two!.name)]).toEqual([{ n: 1 }, { n: 2 }]);
    expect(scratch.candidate(one!.name).length).toBeLessThanOrEqual(63);
  });


  const kinds: IdentifierKind[] = ['email', 'phone', 'external_id', 'first_name', 'country'];
  const ids = kinds.map((kind) => ({ kind, rule: metaCapabilities.identifiers[kind]! }));
  const cols = ['id', 'email', 'phone', 'xid', 'first_name', 'country', 'consent'];
  type Member = [string, string | null, string | null, string | null, string | null, string | null, boolean];
  const members = (d: SqlDialect, rows: Member[]) =>
    model({
      sql: rowsSql(d, cols, rows, ['consent']),
      identifiers: { email: 'email', phone: 'phone', external_id: 'xid', first_name: 'first_name', country: 'country' },
    });
  const before: Member[] = [
    ['A', ' Ana@Example.com', '(415) 555-0134', 'X-A', 'Ana', 'us', true],
    ['B', 'bo@example.com', '+44 20 7946 0958', ' X-B ', 'Bo', 'GB', true],
    ['H1', 'household@example.com', null, 'X-H1', 'Hal', null, true],
    ['H2', 'HOUSEHOLD@example.com ', '030 1234567', 'X-H2', 'Hil', 'DE', true],
    ['N', 'not-an-email', 'n/a', null, null, null, true],
    ['Q', 'quiet@example.com', null, 'X-Q', null, null, false],
  ];
  const after: Member[] = [
    ['A', 'ana.new@example.com', '(415) 555-0134', 'X-A', 'Ana', 'us', true], // email changed
    // B left the source
    ['H1', 'household@example.com', null, 'X-H1', 'Hal', null, false], // consent revoked; H2 still holds the email
    ['H2', 'HOUSEHOLD@example.com ', '030 1234567', 'X-H2', 'Hil', 'DE', true],
    ['N', 'not-an-email', 'n/a', null, null, null, true],
    ['Q', 'quiet@example.com', null, 'X-Q', null, null, true], // consent granted
    ['C', 'cy@example.com', '0044 7700 900123', 'X-C', 'Cy', 'GB', true], // new
  ];

  /** candidate -> delta -> parts -> delivery (all accepted, streamed) -> results -> commit, as the runner runs them. */
  async function syncOnce(e: Engine, rows: Member[], runId: string) {
    const s = spec({ identifiers: ids });
    const { wh, d, t } = e;
    const list = (prefix: string) => kinds.map((k) => `${prefix}${k}`).join(', ');
    await wh.execute(candidateSql(d, members(d, rows), ids, { defaultRegion: 'US' }));
    const counts = await wh.query(memberCountsSql(d, s));
    await wh.execute(deltaSql(d, s, t.snapshots));
    await wh.execute(partsSql(d, s, t.snapshots));
    const removed = ids.map((i) => `${removedColumn(i)} AS old_${i.kind}`).join(', ');
    const delta = await wh.query(`SELECT member_key, op, ${list('new_')}, ${removed} FROM ${d.quoteIdent(scratch.delta(s.index))} ORDER BY member_key`);
    const parts = await wh.query(`SELECT member_key, op, ${kinds.join(', ')}, row_id FROM ${d.quoteIdent(scratch.parts(s.index))} ORDER BY op, member_key`);
    const sent: Record<string, unknown[]> = {};
    for (const op of ['remove', 'add'] as const) {
      if (op === 'add') await wh.execute(holdBackAddsSql(d, s, t.deliveries, runId, NOW));
      const rowsSent: { row_id: number }[] = [];
      for await (const chunk of wh.stream<{ row_id: number }>(rowsToSendSql(d, s, op, t.deliveries, runId).sql)) rowsSent.push(...chunk);
      sent[op] = rowsSent;
      if (rowsSent.length === 0) continue;
      await wh.insertRows(t.deliveries, [
        {
          run_id: runId, sync_id: s.syncId, op, first_row_id: rowsSent[0]!.row_id, last_row_id: rowsSent.at(-1)!.row_id, row_count: rowsSent.length,
          status: 'sent', attempts: 1, error_code: null, error_message: null, finished_at: new Date(NOW),
        },
      ]);
    }
    await wh.execute(memberResultsSql(d, s, t.deliveries, runId, 'not sent'));
    const results = await wh.query(`SELECT member_key, op, status, action FROM ${d.quoteIdent(scratch.result(s.index))} ORDER BY member_key`);
    await wh.transaction(async (tx) => {
      for (const statement of commitSql(d, s, t, { runId, nowIso: NOW, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'a1' })) {
        await tx.execute(statement);
      }
    });
    const snapshot = await wh.query(`SELECT member_key, ${kinds.map((k) => `${k}_hash`).join(', ')} FROM ${t.snapshots} ORDER BY member_key`);
    return { counts, delta, parts, sent, results, snapshot };
  }

  it('a first sync and a second with changes, leavers and a shared email: the same delta, parts and snapshot as DuckDB', async () => {
    const first = await syncOnce(pgE, before, 'r1');
    expect(first).toEqual(await syncOnce(duck, before, 'r1'));
    expect(first.counts).toEqual([expect.objectContaining({ members: 4, invalid: 1, no_consent: 1, held_out: 0 })]);
    expect(first.delta.map((r) => [r.member_key, r.op])).toEqual([['A', 'add'], ['B', 'add'], ['H1', 'add'], ['H2', 'add']]);
    // Phones in E.164 digits (national numbers with the row's region), hashed.
    const { createHash } = await import('node:crypto');
    const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');
    expect(first.delta.map((r) => r.new_phone)).toEqual([sha('14155550134'), sha('442079460958'), null, sha('49301234567')]);
    expect(first.delta.map((r) => r.new_external_id)).toEqual(['X-A', 'X-B', 'X-H1', 'X-H2']); // Meta takes it in plain text

    const second = await syncOnce(pgE, after, 'r2');
    expect(second).toEqual(await syncOnce(duck, after, 'r2'));
    expect(second.results).toEqual([
      { member_key: 'A', op: 'change', status: 'sent', action: 'upsert' },
      { member_key: 'B', op: 'remove', status: 'sent', action: 'delete' },
      { member_key: 'C', op: 'add', status: 'sent', action: 'upsert' },
      { member_key: 'H1', op: 'remove', status: 'sent', action: 'delete' },
      { member_key: 'Q', op: 'add', status: 'sent', action: 'upsert' },
    ]);
    // H1 leaves, but H2 still holds the household email: H1's removal blanks it and sends only H1's own external id.
    const h1 = second.parts.find((r) => r.member_key === 'H1' && r.op === 'remove');
    expect(h1).toMatchObject({ email: null, external_id: 'X-H1' });
    expect(second.snapshot.map((r) => r.member_key)).toEqual(['A', 'C', 'H2', 'Q']);
  });
});
