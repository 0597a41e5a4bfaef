// Snowflake reads regexes as POSIX ERE, the builders write RE2. Every pattern the builders emit is
// rewritten (snowflake-regex.ts); here each rewrite is checked two ways:
//   - it uses only what POSIX ERE and RE2 read alike: no backslash inside a bracket, no Perl class
//     escapes, no (?...) groups, only backslash-escaped metacharacters outside brackets;
//   - on random messy strings, RE2 (DuckDB's) gives the same full-match and replace-all results for
//     the rewrite as for the original.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateSql } from '../../src/warehouse/sql/candidate.js';
import type { SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { duckdbDialect } from '../../src/warehouse/sql/dialects/duckdb.js';
import { toSnowflakeRegex } from '../../src/warehouse/sql/dialects/snowflake-regex.js';
import { PUNCT, WS } from '../../src/warehouse/sql/normalize.js';
import { candidateIds, model } from './statements.js';

const fullPatterns = new Set<string>();
const replacePatterns = new Set<string>();
const spy: SqlDialect = {
  ...duckdbDialect,
  regexFullMatch: (expr, pattern) => (fullPatterns.add(pattern), duckdbDialect.regexFullMatch(expr, pattern)),
  regexReplaceAll: (expr, pattern, r) => (replacePatterns.add(pattern), duckdbDialect.regexReplaceAll(expr, pattern, r)),
};
candidateSql(spy, model, candidateIds, { defaultRegion: 'US' });

let db: DuckDBInstance;
let conn: DuckDBConnection;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});
afterAll(() => {
  conn.closeSync();
  db.closeSync();
});

/** A pattern as ASCII for test names: its invisible characters as \\uXXXX. */
const label = (p: string) => JSON.stringify(p).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Full match (or, with replace, every match replaced by '') of each string, in DuckDB's RE2. */
async function re2(pattern: string, values: string[], mode: 'full' | 'replace'): Promise<unknown[]> {
  const call = mode === 'full' ? `regexp_full_match(s, ${sqlText(pattern)})` : `regexp_replace(s, ${sqlText(pattern)}, '', 'g')`;
  const rows = values.map((v, i) => `(${i}, ${sqlText(v)})`).join(', ');
  const reader = await conn.runAndReadAll(`SELECT ${call} AS r FROM (VALUES ${rows}) AS t(i, s) ORDER BY i`);
  return reader.getRowObjectsJS().map((r) => r.r);
}

/** Bracket bodies of a pattern, so the test can look inside them. */
function brackets(pattern: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < pattern.length; i += 1) {
    if (pattern[i] === '\\') i += 1;
    else if (pattern[i] === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j += 1;
      if (pattern[j] === ']') j += 1;
      while (pattern[j] !== ']') j += 1;
      found.push(pattern.slice(i + 1, j));
      i = j;
    }
  }
  return found;
}

// Characters the patterns are about, and ones that would expose a misread backslash or class.
const ALPHABET = [...'aAzZsSdD09@.+-_[]^`\\\'"!/:~ \t\n\r\f\u000b\u00a0\u2003\u2028\u3000\ufeff\u201c\u2019\u2014\u00e9\u00df\u4e2d'];
const messy = fc.array(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 12 }), { minLength: 50, maxLength: 50 });

describe('builder regexes on Snowflake', () => {
  it('the builders emit the whitespace and punctuation classes (so this test covers them)', () => {
    expect([...replacePatterns].some((p) => p.includes(WS))).toBe(true);
    expect([...replacePatterns].some((p) => p.includes(PUNCT))).toBe(true);
    expect(fullPatterns.size).toBeGreaterThan(3);
  });

  const all = [...new Set([...fullPatterns].map((p) => `(${p})`).concat([...replacePatterns]))].map((p) => [label(p), p]);
  it.each(all)('%s is rewritten without constructs POSIX reads differently', (_, pattern) => {
    const rewritten = toSnowflakeRegex(pattern);
    for (const body of brackets(rewritten)) expect(body).not.toContain('\\');
    expect(rewritten.replace(/\[[^\]]*\]/g, '')).not.toMatch(/\\[^.+*?()[\]{}|^$\\/-]|\(\?/);
  });

  it.each([...fullPatterns].map((p) => [label(p), p]))('full match %s: the rewrite matches exactly what the original matches', async (_, pattern) => {
    const rewritten = toSnowflakeRegex(`(${pattern})`);
    await fc.assert(
      fc.asyncProperty(messy, async (values) => {
        expect(await re2(rewritten, values, 'full')).toEqual(await re2(pattern, values, 'full'));
      }),
      { numRuns: 20 },
    );
  });

  it.each([...replacePatterns].map((p) => [label(p), p]))('replace-all %s: the rewrite removes exactly what the original removes', async (_, pattern) => {
    const rewritten = toSnowflakeRegex(pattern);
    await fc.assert(
      fc.asyncProperty(messy, async (values) => {
        expect(await re2(rewritten, values, 'replace')).toEqual(await re2(pattern, values, 'replace'));
      }),
      { numRuns: 20 },
    );
  });
});

describe('toSnowflakeRegex', () => {
  it('spells \\s as the characters RE2 means, in and out of brackets', () => {
    expect(toSnowflakeRegex('[\\s.]+')).toBe('[\t\n\f\r .]+');
    expect(toSnowflakeRegex('a\\sb')).toBe('a[\t\n\f\r ]b');
    expect(toSnowflakeRegex('\\d{3}')).toBe('[0-9]{3}');
  });
  it('writes escaped bracket characters where POSIX reads them literally', () => {
    expect(toSnowflakeRegex('[\\[-`]')).toBe('[[-`]');
    expect(toSnowflakeRegex('[a\\]\\-\\^]')).toBe('[]a^-]');
    expect(toSnowflakeRegex('[^@]+@[^@]+\\.[^@]+')).toBe('[^@]+@[^@]+\\.[^@]+');
  });
  it('keeps escaped metacharacters and drops non-capturing markers', () => {
    expect(toSnowflakeRegex('^(?:\\+.*)$')).toBe('^(\\+.*)$');
  });
  it('refuses what POSIX has no spelling for, rather than matching differently', () => {
    expect(() => toSnowflakeRegex('\\bword')).toThrow(/no Snowflake/);
    expect(() => toSnowflakeRegex('[\\w]')).toThrow(/no Snowflake/);
    expect(() => toSnowflakeRegex('(?i)abc')).toThrow(/no Snowflake/);
    expect(() => toSnowflakeRegex('[\\^]')).toThrow(/only \^/);
    expect(() => toSnowflakeRegex('[abc')).toThrow(/unclosed/);
  });
});
