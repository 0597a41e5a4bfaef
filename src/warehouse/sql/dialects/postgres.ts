import type { SqlDialect } from '../dialect.js';
import { standardString } from './standard-string.js';
import { categoryClass } from '../unicode.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const str = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  types: { text: 'TEXT', bigint: 'BIGINT', int: 'INTEGER', timestamp: 'TIMESTAMPTZ', bool: 'BOOLEAN' },
  quoteIdent: quote,
  // glibc's [:alpha:] counts other scripts' digits ('٣', '３') and letter numbers ('Ⅷ') as letters:
  // Unicode's numbers (\p{N}) are taken out as well.
  lettersOnly: (expr) => `regexp_replace(regexp_replace(normalize(${expr}, NFC), '[^[:alpha:]]+', '', 'g'), ${standardString(`[${categoryClass('N')}]+`)}, '', 'g')`,
  string: standardString,
  primaryKey: (columns) => `PRIMARY KEY (${columns.join(', ')})`,
  mod: (a, b) => `mod(${a}, ${b})`,
  isTrue: (expr) => `(${expr} IS TRUE)`,
  jsonString: (expr) => `CAST(to_json(CAST(${expr} AS text)) AS text)`,
  stringAgg: (expr, separator) => `string_agg(${expr}, ${str(separator)})`,
  // Named after the table, so asking twice (a sync's removals, then its adds) creates one.
  rangeIndex: (table, column) => `CREATE INDEX IF NOT EXISTS ${quote(`${table}_${column}`)} ON ${quote(table)} (${column})`,
  sha256Hex: (expr) => `encode(sha256(convert_to(${expr}, 'UTF8')), 'hex')`,
  // hashtextextended is Postgres' own 64-bit text hash; a separator keeps ('ab','c') apart from ('a','bc').
  transactionLock: (name) => `SELECT pg_advisory_xact_lock(hashtextextended(${standardString(name)}, 0))`,
  hash64: (exprs) => `hashtextextended(concat_ws(chr(31), ${exprs.map((e) => `coalesce(${e}, chr(30))`).join(', ')}), 0)`,
  regexFullMatch: (expr, pattern) => `(${expr} ~ ${str(`^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`)})`,
  regexReplaceAll: (expr, pattern, replacement) => `regexp_replace(${expr}, ${str(pattern)}, ${str(replacement)}, 'g')`,
  lpad: (expr, length, fill) => `lpad(${expr}, ${length}, ${str(fill)})`,
  strpos: (haystack, needle) => `strpos(${haystack}, ${needle})`,
  valuesTable: (columns, rows) =>
    `SELECT * FROM (VALUES ${rows.map((r) => `(${r.map((v) => (v === null ? 'CAST(NULL AS TEXT)' : str(v))).join(', ')})`).join(', ')}) AS v(${columns.map(quote).join(', ')})`,
  hexPrefixToInt: (expr) => `(('x' || substr(${expr}, 1, 8))::bit(32)::bigint)`,
  timestamp: (iso) => `CAST(${str(iso)} AS TIMESTAMPTZ)`,
  createTempTableAs: (name, select) => `DROP TABLE IF EXISTS pg_temp.${quote(name)};\nCREATE TEMP TABLE ${quote(name)} AS\n${select}`,
  dropTempTable: (name) => `DROP TABLE IF EXISTS pg_temp.${quote(name)}`,
  insertIgnore: (table, columns, select) => `INSERT INTO ${table} (${columns.map(quote).join(', ')})\n${select}\nON CONFLICT DO NOTHING`,
};
