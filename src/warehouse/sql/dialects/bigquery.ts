// GoogleSQL (BigQuery). Regexes are RE2, as in DuckDB, so the builders' patterns mean the same here.
// String literals process backslash escapes and cannot hold a raw newline, so every literal we
// write escapes '\', '\'' and anything outside printable ASCII (\uXXXX): the SQL text stays plain
// ASCII and invisible characters of the whitespace classes are readable in review.
import type { SqlDialect } from '../dialect.js';
import { mergeInsertIgnore } from './merge-insert.js';

const quote = (name: string) => `\`${name.replace(/[\\`]/g, (c) => `\\${c}`)}\``;

export function bigqueryString(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `'${out}'`;
}

const str = bigqueryString;
/** Unanchored builder patterns become full matches; ^ and $ the caller wrote are kept inside. */
const full = (pattern: string) => `^(?:${pattern})$`;
// Separator and NULL marker as in the Postgres dialect, so ('ab', 'c'), ('a', 'bc') and NULLs differ.
const SEPARATOR = str('\u001f');
const NULL_MARK = str('\u001e');

export const bigqueryDialect: SqlDialect = {
  name: 'bigquery',
  types: { text: 'STRING', bigint: 'INT64', int: 'INT64', timestamp: 'TIMESTAMP', bool: 'BOOL' },
  quoteIdent: quote,
  // As on DuckDB: marks on anything but a letter go first.
  lettersOnly: (expr) => `REGEXP_REPLACE(REGEXP_REPLACE(NORMALIZE(${expr}, NFC), r'(^|[^\\p{L}\\p{M}])\\p{M}+', r'\\1'), r'[^\\p{L}\\p{M}]+', '')`,
  string: bigqueryString,
  primaryKey: (columns) => `PRIMARY KEY (${columns.join(', ')}) NOT ENFORCED`,
  mod: (a, b) => `MOD(${a}, ${b})`,
  isTrue: (expr) => `(${expr} IS TRUE)`,
  jsonString: (expr) => `TO_JSON_STRING(CAST(${expr} AS STRING))`,
  stringAgg: (expr, separator) => `STRING_AGG(${expr}, ${str(separator)})`,
  sha256Hex: (expr) => `TO_HEX(SHA256(${expr}))`,
  // FARM_FINGERPRINT is already a signed INT64.
  hash64: (exprs) => `FARM_FINGERPRINT(CONCAT(${exprs.map((e) => `IFNULL(${e}, ${NULL_MARK})`).join(`, ${SEPARATOR}, `)}))`,
  regexFullMatch: (expr, pattern) => `REGEXP_CONTAINS(${expr}, ${str(full(pattern))})`,
  regexReplaceAll: (expr, pattern, replacement) => `REGEXP_REPLACE(${expr}, ${str(pattern)}, ${str(replacement)})`,
  lpad: (expr, length, fill) => `LPAD(${expr}, ${length}, ${str(fill)})`,
  strpos: (haystack, needle) => `STRPOS(${haystack}, ${needle})`,
  // No VALUES in GoogleSQL: an array of structs, each field named so no coercion rule is involved.
  valuesTable: (columns, rows) =>
    `SELECT * FROM UNNEST([${rows
      .map((r) => `STRUCT(${r.map((v, i) => `${v === null ? 'CAST(NULL AS STRING)' : str(v)} AS ${quote(columns[i]!)}`).join(', ')})`)
      .join(',\n  ')}])`,
  // CAST('0x1a2b3c4d' AS INT64) reads hex; 8 digits always fit.
  hexPrefixToInt: (expr) => `CAST(CONCAT('0x', SUBSTR(${expr}, 1, 8)) AS INT64)`,
  timestamp: (iso) => `TIMESTAMP ${str(iso.replace('T', ' ').replace(/Z$/, '+00:00'))}`,
  // Temp tables live in the BigQuery session the warehouse opens (see warehouse/bigquery/README.md).
  createTempTableAs: (name, select) => `CREATE OR REPLACE TEMP TABLE ${quote(name)} AS\n${select}`,
  dropTempTable: (name) => `DROP TABLE IF EXISTS ${quote(name)}`,
  insertIgnore: (table: string, columns: string[], select: string, keys?: string[]) => mergeInsertIgnore(bigqueryDialect, table, columns, select, keys),
};
