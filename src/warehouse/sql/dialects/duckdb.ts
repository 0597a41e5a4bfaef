import type { SqlDialect } from '../dialect.js';
import { standardString } from './standard-string.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const str = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  types: { text: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', timestamp: 'TIMESTAMP', bool: 'BOOLEAN' },
  quoteIdent: quote,
  // Marks go with their letter; those on anything else (an emoji's variation selector U+FE0F, a
  // keycap's U+20E3) go first, or they would be left on the letter before the dropped character.
  lettersOnly: (expr) => `regexp_replace(regexp_replace(nfc_normalize(${expr}), '(^|[^\\p{L}\\p{M}])\\p{M}+', '\\1', 'g'), '[^\\p{L}\\p{M}]+', '', 'g')`,
  string: standardString,
  primaryKey: (columns) => `PRIMARY KEY (${columns.join(', ')})`,
  mod: (a, b) => `mod(${a}, ${b})`,
  isTrue: (expr) => `(${expr} IS TRUE)`,
  jsonString: (expr) => `CAST(to_json(CAST(${expr} AS VARCHAR)) AS VARCHAR)`,
  stringAgg: (expr, separator) => `string_agg(${expr}, ${str(separator)})`,
  utf8Bytes: (expr) => `encode(${expr})`,
  sha256Hex: (expr) => `sha256(${expr})`,
  // hash() is UBIGINT; keep 63 bits so every engine can store it as a signed BIGINT.
  hash64: (exprs) => `CAST(hash(${exprs.join(', ')}) >> 1 AS BIGINT)`,
  regexFullMatch: (expr, pattern) => `regexp_full_match(${expr}, ${str(pattern)})`,
  regexReplaceAll: (expr, pattern, replacement) => `regexp_replace(${expr}, ${str(pattern)}, ${str(replacement)}, 'g')`,
  lpad: (expr, length, fill) => `lpad(${expr}, ${length}, ${str(fill)})`,
  strpos: (haystack, needle) => `strpos(${haystack}, ${needle})`,
  valuesTable: (columns, rows) =>
    `SELECT * FROM (VALUES ${rows.map((r) => `(${r.map((v) => (v === null ? 'CAST(NULL AS VARCHAR)' : str(v))).join(', ')})`).join(', ')}) AS v(${columns.map(quote).join(', ')})`,
  hexPrefixToInt: (expr) => `CAST(('0x' || substr(${expr}, 1, 8)) AS BIGINT)`,
  timestamp: (iso) => `CAST(${str(iso.replace('T', ' ').replace('Z', ''))} AS TIMESTAMP)`,
  createTempTableAs: (name, select) => `CREATE OR REPLACE TEMP TABLE ${quote(name)} AS\n${select}`,
  dropTempTable: (name) => `DROP TABLE IF EXISTS temp.${quote(name)}`,
  insertIgnore: (table, columns, select) => `INSERT INTO ${table} (${columns.map(quote).join(', ')})\n${select}\nON CONFLICT DO NOTHING`,
};
