// SQL that parses (node-sql-parser is lenient) but BigQuery or Snowflake would reject or read
// differently. Each entry was found in the builders and fixed there; the entries stay as guards:
// `steps` lists where a pattern is still expected (none now), so the golden test fails if one comes
// back. A new problem gets a new entry.
import type { Dialect } from '../../src/warehouse/warehouse.js';

export interface BuilderIssue {
  id: string;
  dialect: Dialect;
  /** Golden steps whose SQL shows it. */
  steps: string[];
  found(sql: string): boolean;
  problem: string;
  proposal: string;
}

export const BUILDER_ISSUES: BuilderIssue[] = [
  {
    id: 'modulo-operator',
    dialect: 'bigquery',
    steps: [],
    found: (sql) => /\) % \d/.test(sql),
    problem: 'candidate.ts holdout bucket `... % 10000 < 1000`: GoogleSQL has no % operator (MOD(x, y) only).',
    proposal: 'candidate.ts: write `mod(<bucket>, 10000)`; mod() exists in DuckDB, Postgres, BigQuery and Snowflake alike.',
  },
  {
    id: 'bare-union',
    dialect: 'bigquery',
    steps: [],
    found: (sql) => /\bUNION\b(?!\s+(ALL|DISTINCT)\b)/.test(sql),
    problem: 'delta.ts partsSql after_<kind> CTE uses `UNION`: GoogleSQL requires UNION ALL or UNION DISTINCT (Snowflake has no UNION DISTINCT).',
    proposal: 'delta.ts: `after_<k> AS (SELECT DISTINCT v FROM (<first> UNION ALL <second>) u)`: portable to all four.',
  },
  {
    id: 'double-quoted-identifier',
    dialect: 'bigquery',
    steps: [],
    found: (sql) => /"group"/.test(sql),
    problem: 'migrations.ts audsync_holdouts writes the column as "group": in GoogleSQL a double-quoted token is a string literal, so CREATE TABLE fails.',
    proposal: 'migrations.ts: `${d.quoteIdent(\'group\')} ${text} NOT NULL` (`group` on BigQuery, "group" elsewhere, as now).',
  },
  {
    id: 'enforced-primary-key',
    dialect: 'bigquery',
    steps: [],
    found: (sql) => /PRIMARY KEY(?: \([^)]*\))?(?![^\n]*NOT ENFORCED)/.test(sql),
    problem: 'migrations.ts declares PRIMARY KEY: BigQuery accepts only `PRIMARY KEY (...) NOT ENFORCED` (column or table level).',
    proposal:
      'a dialect hook `primaryKey: (columns: string[]) => string` (BigQuery: `PRIMARY KEY (a, b) NOT ENFORCED`, others `PRIMARY KEY (a, b)`), used as a table-level constraint for every table; merge-insert.ts reads the keys from it.',
  },
  {
    id: 'doubled-quote-literal',
    dialect: 'bigquery',
    steps: [],
    found: (sql) => /\w''\w/.test(sql),
    problem:
      "dialect.ts literal() doubles quotes ('model''s'): GoogleSQL has no '' escape (it reads two adjacent literals and fails), and reads backslashes as escapes. Run error messages, model names, salts and sync ids all pass through literal(). (Snowflake takes '' but also reads backslashes as escapes, so a value holding \\ changes there.)",
    proposal:
      "a dialect hook `string(value: string): string` (bigquery.ts and snowflake.ts export bigqueryString / snowflakeString already; DuckDB/Postgres keep doubling quotes), and `literal(value, d)` calling it; builders pass their dialect.",
  },
  {
    id: 'is-true',
    dialect: 'snowflake',
    steps: [],
    found: (sql) => /\bIS TRUE\b/.test(sql),
    problem: 'candidate.ts consent `(src.consent IS TRUE)`: Snowflake has no IS [NOT] TRUE predicate.',
    proposal: 'candidate.ts: `coalesce(src.consent = TRUE, FALSE)`: same meaning (NULL is not consent) on all four.',
  },
];
