// The BigQuery and Snowflake dialects' own pieces: names, literals, the MERGE that stands in for
// ON CONFLICT, and the choices the golden files would only show as text.
import { describe, expect, it } from 'vitest';
import { literal, sqlDialect } from '../../src/warehouse/sql/dialect.js';
import { bigqueryDialect as bq, bigqueryString } from '../../src/warehouse/sql/dialects/bigquery.js';
import { mergeInsertIgnore, primaryKeyOf } from '../../src/warehouse/sql/dialects/merge-insert.js';
import { snowflakeDialect as sf, snowflakeIdent, snowflakeString } from '../../src/warehouse/sql/dialects/snowflake.js';
import { stateTables } from '../../src/warehouse/sql/names.js';

describe('sqlDialect', () => {
  it('knows all four engines', () => {
    expect(['duckdb', 'postgres', 'bigquery', 'snowflake'].map((n) => sqlDialect(n as never).name)).toEqual(['duckdb', 'postgres', 'bigquery', 'snowflake']);
  });
});

describe('Snowflake names', () => {
  it('stay unquoted when Snowflake would fold them the same way on both sides', () => {
    expect(snowflakeIdent('member_key')).toBe('member_key');
    expect(snowflakeIdent('_audsync_candidate_buyers')).toBe('_audsync_candidate_buyers');
    expect(snowflakeIdent('ANALYTICS')).toBe('ANALYTICS');
    expect(snowflakeIdent('n_email__email')).toBe('n_email__email');
    expect(snowflakeIdent('a$b')).toBe('a$b');
  });
  it('are quoted exactly when they cannot be written unquoted', () => {
    expect(snowflakeIdent('group')).toBe('"group"');
    expect(snowflakeIdent('Order')).toBe('"Order"');
    expect(snowflakeIdent('my-db')).toBe('"my-db"');
    expect(snowflakeIdent('1st')).toBe('"1st"');
    expect(snowflakeIdent('say "hi"')).toBe('"say ""hi"""');
  });
  it("match migration 1's literal \"group\" column in the holdouts MERGE", () => {
    const t = stateTables(sf, 'audsync', 'ANALYTICS');
    expect(sf.insertIgnore(t.holdouts, ['model', 'member_key', 'group', 'salt', 'assigned_at'], 'SELECT 1')).toContain('s."group"');
  });
});

describe('string literals', () => {
  it('BigQuery: backslash escapes, no doubled quotes, plain ASCII text', () => {
    expect(bigqueryString("it's")).toBe("'it\\'s'");
    expect(bigqueryString('a\\b')).toBe("'a\\\\b'");
    expect(bigqueryString('line\nbreak\u00a0é')).toBe("'line\\u000abreak\\u00a0\\u00e9'");
    expect(bigqueryString('😀')).toBe("'\\U0001f600'");
  });
  it('Snowflake: quotes doubled, backslashes doubled (Snowflake reads them as escapes)', () => {
    expect(snowflakeString("it's")).toBe("'it''s'");
    expect(snowflakeString('a\\b')).toBe("'a\\\\b'");
    expect(snowflakeString('\u2028x')).toBe("'\\u2028x'");
  });
  it('timestamps are UTC literals', () => {
    expect(bq.timestamp('2026-03-01T10:00:00.000Z')).toBe("TIMESTAMP '2026-03-01 10:00:00.000+00:00'");
    expect(sf.timestamp('2026-03-01T10:00:00.000Z')).toBe("CAST('2026-03-01 10:00:00.000' AS TIMESTAMP_NTZ)");
  });
  it("literal() takes each dialect's own string syntax", () => {
    expect(literal(sqlDialect('duckdb'), "model's \\ data")).toBe("'model''s \\ data'");
    expect(literal(bq, "model's \\ data")).toBe("'model\\'s \\\\ data'");
    expect(literal(sf, "model's \\ data")).toBe("'model''s \\\\ data'");
  });
});

describe('expressions', () => {
  it('hash64 keeps NULLs and argument boundaries apart on BigQuery; Snowflake HASH takes the list', () => {
    expect(bq.hash64(['a', 'b'])).toBe("FARM_FINGERPRINT(CONCAT(IFNULL(a, '\\u001e'), '\\u001f', IFNULL(b, '\\u001e')))");
    expect(sf.hash64(['a', 'b'])).toBe('HASH(a, b)');
  });
  it('full matches are anchored on BigQuery, and left to REGEXP_LIKE (which anchors) on Snowflake', () => {
    expect(bq.regexFullMatch('x', 'a|b')).toBe("REGEXP_CONTAINS(x, '^(?:a|b)$')");
    expect(sf.regexFullMatch('x', 'a|b')).toBe("REGEXP_LIKE(x, '(a|b)')");
  });
  it('constant tables: named struct fields on BigQuery (no VALUES), VALUES on Snowflake', () => {
    expect(bq.valuesTable(['cc'], [['1'], [null]])).toBe("SELECT * FROM UNNEST([STRUCT('1' AS `cc`),\n  STRUCT(CAST(NULL AS STRING) AS `cc`)])");
    expect(sf.valuesTable(['cc', 'np'], [['1', null]])).toBe("SELECT * FROM (VALUES ('1', CAST(NULL AS VARCHAR))) AS v(cc, np)");
  });
  it('temp tables are session tables', () => {
    expect(bq.createTempTableAs('_t', 'SELECT 1')).toBe('CREATE OR REPLACE TEMP TABLE `_t` AS\nSELECT 1');
    expect(sf.createTempTableAs('_t', 'SELECT 1')).toBe('CREATE OR REPLACE TEMPORARY TABLE _t AS\nSELECT 1');
  });
});

describe('insertIgnore as MERGE', () => {
  it("takes the conflict keys from migrations.ts's PRIMARY KEY declarations", () => {
    for (const d of [bq, sf]) {
      const t = stateTables(d, 'audsync', 'cat');
      expect(primaryKeyOf(d, t.locks)).toEqual(['sync_id']);
      expect(primaryKeyOf(d, t.holdouts)).toEqual(['model', 'salt', 'member_key']);
      expect(primaryKeyOf(d, t.snapshots)).toEqual(['sync_id', 'member_key']);
      expect(primaryKeyOf(d, t.migrations)).toEqual(['version']);
      expect(() => primaryKeyOf(d, t.changes)).toThrow(/no PRIMARY KEY/);
    }
  });

  it('names the select\'s columns by a LIMIT 0 branch of the target, and inserts only absent keys', () => {
    expect(mergeInsertIgnore(sf, 'audsync.audsync_locks', ['sync_id', 'run_id'], "SELECT 'a', 'b'")).toBe(`MERGE INTO audsync.audsync_locks AS t
USING (
  (SELECT sync_id, run_id FROM audsync.audsync_locks LIMIT 0)
  UNION ALL
  (SELECT 'a', 'b')
) AS s
ON t.sync_id = s.sync_id
WHEN NOT MATCHED THEN INSERT (sync_id, run_id) VALUES (s.sync_id, s.run_id)`);
  });

  it('takes explicit keys when given', () => {
    expect(mergeInsertIgnore(bq, '`x`.t', ['a', 'b'], 'SELECT 1, 2', ['b'])).toContain('ON t.`b` = s.`b`');
  });
});
