// Snowflake. Names: Snowflake folds unquoted identifiers to upper case and keeps quoted ones as
// written, so a name quoted here would not match a column created unquoted ("member_key" is not
// MEMBER_KEY). quoteIdent therefore writes a name as a user would type it: unquoted when it can be
// (letters, digits, _ and $, not a reserved word), quoted exactly otherwise ("group"). The
// builders' own unquoted names fold the same way, so both spellings meet.
// Regexes: POSIX ERE, rewritten from the builders' RE2 patterns (snowflake-regex.ts); REGEXP_LIKE
// matches the whole string. String literals process backslash escapes, so backslashes are doubled
// and anything outside printable ASCII is written \uXXXX.
import type { SqlDialect } from '../dialect.js';
import { mergeInsertIgnore } from './merge-insert.js';
import { toSnowflakeRegex } from './snowflake-regex.js';

// Reserved and limited keywords that cannot be column or table names unquoted (Snowflake docs,
// "Reserved & limited keywords").
const RESERVED = new Set(
  `ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT
  CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR
  FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE
  LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS
  SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING VALUES
  VIEW WHEN WHENEVER WHERE WITH`.split(/\s+/),
);

export function snowflakeIdent(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name.toUpperCase())) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

export function snowflakeString(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "''";
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch; // \u takes four digits only; the UTF-8 character itself is fine in a literal
  }
  return `'${out}'`;
}

const quote = snowflakeIdent;
const str = snowflakeString;
const regex = (pattern: string) => str(toSnowflakeRegex(pattern));

export const snowflakeDialect: SqlDialect = {
  name: 'snowflake',
  // TIMESTAMP_NTZ holds UTC wall-clock time: the warehouse sets the session's TIMEZONE to UTC.
  types: { text: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', timestamp: 'TIMESTAMP_NTZ', bool: 'BOOLEAN' },
  quoteIdent: quote,
  lettersOnly: (expr) => `REGEXP_REPLACE(${expr}, '[^[:alpha:]]+', '')`,
  string: snowflakeString,
  primaryKey: (columns) => `PRIMARY KEY (${columns.join(', ')})`,
  mod: (a, b) => `MOD(${a}, ${b})`,
  isTrue: (expr) => `coalesce(${expr} = TRUE, FALSE)`,
  // TO_JSON of a string VARIANT is the JSON text of that string, quotes and escapes included.
  jsonString: (expr) => `TO_JSON(TO_VARIANT(CAST(${expr} AS VARCHAR)))`,
  stringAgg: (expr, separator) => `LISTAGG(${expr}, ${str(separator)})`,
  sha256Hex: (expr) => `SHA2(${expr}, 256)`,
  // HASH takes several arguments, never returns NULL and tells NULL apart from any value: a signed 64-bit NUMBER.
  hash64: (exprs) => `HASH(${exprs.join(', ')})`,
  // REGEXP_LIKE is anchored at both ends; the group keeps an alternation whole.
  regexFullMatch: (expr, pattern) => `REGEXP_LIKE(${expr}, ${regex(`(${pattern})`)})`,
  // Occurrence 0 (the default) replaces every match.
  regexReplaceAll: (expr, pattern, replacement) => `REGEXP_REPLACE(${expr}, ${regex(pattern)}, ${str(replacement)})`,
  lpad: (expr, length, fill) => `LPAD(${expr}, ${length}, ${str(fill)})`,
  strpos: (haystack, needle) => `POSITION(${needle}, ${haystack})`,
  valuesTable: (columns, rows) =>
    `SELECT * FROM (VALUES ${rows.map((r) => `(${r.map((v) => (v === null ? 'CAST(NULL AS VARCHAR)' : str(v))).join(', ')})`).join(', ')}) AS v(${columns.map(quote).join(', ')})`,
  // Format X reads one hex digit; upper case so the format's letter case never matters.
  hexPrefixToInt: (expr) => `TO_NUMBER(UPPER(SUBSTR(${expr}, 1, 8)), 'XXXXXXXX')`,
  timestamp: (iso) => `CAST(${str(iso.replace('T', ' ').replace(/Z$/, ''))} AS TIMESTAMP_NTZ)`,
  // Temporary tables live in the connection's session, in its current database and schema.
  createTempTableAs: (name, select) => `CREATE OR REPLACE TEMPORARY TABLE ${quote(name)} AS\n${select}`,
  dropTempTable: (name) => `DROP TABLE IF EXISTS ${quote(name)}`,
  insertIgnore: (table: string, columns: string[], select: string, keys?: string[]) => mergeInsertIgnore(snowflakeDialect, table, columns, select, keys),
};
