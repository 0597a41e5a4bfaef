// What differs between warehouses' SQL, and nothing else. Builders in this folder compose these
// pieces; a new engine is mostly one file in dialects/.
import type { Dialect } from '../warehouse.js';
import { bigqueryDialect } from './dialects/bigquery.js';
import { duckdbDialect } from './dialects/duckdb.js';
import { postgresDialect } from './dialects/postgres.js';
import { snowflakeDialect } from './dialects/snowflake.js';

export interface SqlDialect {
  name: Dialect;
  types: { text: string; bigint: string; int: string; timestamp: string; bool: string };
  quoteIdent(name: string): string;
  /** A string literal. */
  string(value: string): string;
  /** A table-level primary key clause (BigQuery needs NOT ENFORCED). */
  primaryKey(columns: string[]): string;
  /** a mod b for integers (BigQuery has no %). */
  mod(a: string, b: string): string;
  /** Keeps the letters of every script (and combining marks where the engine can tell), drops the rest. */
  lettersOnly(expr: string): string;
  /** TRUE when a boolean column is TRUE; FALSE for FALSE and NULL (Snowflake has no IS TRUE). */
  isTrue(expr: string): string;
  /** Lowercase hex SHA-256 of a text expression. */
  sha256Hex(expr: string): string;
  /** A fast 64-bit hash of several text expressions (NULLs included), as a signed BIGINT. */
  hash64(exprs: string[]): string;
  /** Full-string regex match. */
  regexFullMatch(expr: string, pattern: string): string;
  /** Replace every match of pattern. */
  regexReplaceAll(expr: string, pattern: string, replacement: string): string;
  /** Left-pads text to a length. */
  lpad(expr: string, length: number, fill: string): string;
  /** 1-based position of needle in haystack, 0 when absent. */
  strpos(haystack: string, needle: string): string;
  /** A constant table as a subquery: SELECT the rows, every column text (NULL allowed). */
  valuesTable(columns: string[], rows: (string | null)[][]): string;
  /** The first 8 hex digits of a hex string as a non-negative integer (for stable buckets). */
  hexPrefixToInt(expr: string): string;
  /** A text expression as JSON string text, quotes and escapes included ('a"b' -> '"a\\"b"'). */
  jsonString(expr: string): string;
  /**
   * The texts of a group joined by a separator, in whatever order the engine aggregates them: an
   * ORDER BY here made DuckDB sort every group, a third of a batch query's cost (outcome.ts).
   */
  stringAgg(expr: string, separator: string): string;
  /**
   * A text as its UTF-8 bytes, for an engine whose driver hands bytes over as a buffer outside the
   * JavaScript heap (DuckDB); absent where text is the cheaper way out (node-pg parses bytea from hex).
   */
  utf8Bytes?(expr: string): string;
  /** A UTC timestamp literal from an ISO-8601 string. */
  timestamp(iso: string): string;
  createTempTableAs(name: string, select: string): string;
  dropTempTable(name: string): string;
  /**
   * An index that makes reading a range of `column` cheap, for engines that need one to do so
   * (Postgres); absent where the engine has zone maps (DuckDB) or does not read by range at all.
   */
  rangeIndex?(table: string, column: string): string;
  /** INSERT that silently skips rows conflicting on the primary key. */
  insertIgnore(table: string, columns: string[], select: string): string;
  /**
   * A statement that holds, until the transaction ends, a lock named by `name` that any other
   * session of the engine waits for. Absent where one writer per database is the engine's own rule
   * (DuckDB) or the engine has no such lock.
   */
  transactionLock?(name: string): string;
}

export function sqlDialect(name: Dialect): SqlDialect {
  switch (name) {
    case 'duckdb':
      return duckdbDialect;
    case 'postgres':
      return postgresDialect;
    case 'bigquery':
      return bigqueryDialect;
    case 'snowflake':
      return snowflakeDialect;
    default:
      throw new Error(`no SQL dialect for ${name} yet`);
  }
}

/** A SQL literal in the dialect's own string syntax (quotes and backslashes differ between engines). */
export function literal(d: SqlDialect, value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return d.string(value);
}
