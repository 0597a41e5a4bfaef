// Per model, once per run: the model's rows with consent, holdout and normalized identifiers
// (plain normalized text, transient, never leaves the warehouse). Hashing happens later, only for
// the rows that changed.
import type { IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { ModelDef } from '../../core/manifest.js';
import { literal, type SqlDialect } from './dialect.js';
import { normalizedColumn, scratch } from './names.js';
import { normalizeSql } from './normalize.js';

export interface NormalizedIdentifier {
  kind: IdentifierKind;
  rule: IdentifierRule;
}

/**
 * The model's SQL as a subquery. Trailing ';' go, with any comment lines after them ("SELECT ...;
 * -- owner: crm"); the closing ')' goes on its own line so a last '--' comment cannot swallow it.
 */
export function modelSubquery(model: ModelDef): string {
  let sql = model.sql.trim();
  for (;;) {
    const next = sql
      .replace(/(^|\n)[ \t]*--[^\n]*$/, '')
      .replace(/;[ \t]*--[^\n]*$/, ';')
      .replace(/;+\s*$/, '')
      .trim();
    if (next === sql) break;
    sql = next;
  }
  return `(\n${sql}\n)`;
}

export function describeModelSql(model: ModelDef): string {
  return `SELECT * FROM ${modelSubquery(model)} AS src LIMIT 0`;
}

export function candidateSql(d: SqlDialect, model: ModelDef, identifiers: NormalizedIdentifier[]): string {
  const col = (name: string) => `src.${d.quoteIdent(name)}`;
  const key = `CAST(${col(model.key)} AS ${d.types.text})`;
  const consented = model.consent ? `(${col(model.consent)} IS TRUE)` : 'TRUE';
  const heldOut = model.holdout
    ? `(${d.hexPrefixToInt(d.sha256Hex(`${literal(`${model.holdout.salt}:`)} || ${key}`))} % 10000 < ${Math.round(model.holdout.percent * 100)})`
    : 'FALSE';
  const updatedAt = model.updatedAt ? `CAST(${col(model.updatedAt)} AS ${d.types.timestamp})` : `CAST(NULL AS ${d.types.timestamp})`;
  const seen = new Set<string>();
  const normalized: string[] = [];
  for (const { kind, rule } of identifiers) {
    const column = model.identifiers[kind];
    const name = normalizedColumn(kind, rule.normalizer);
    if (!column || seen.has(name)) continue;
    seen.add(name);
    normalized.push(`  ${normalizeSql(d, rule, col(column))} AS ${d.quoteIdent(name)}`);
  }
  return d.createTempTableAs(
    scratch.candidate(model.name),
    [
      'SELECT',
      `  ${key} AS member_key,`,
      `  ${consented} AS consented,`,
      `  ${heldOut} AS held_out,`,
      `  ${updatedAt} AS source_updated_at${normalized.length ? ',' : ''}`,
      normalized.join(',\n'),
      `FROM ${modelSubquery(model)} AS src`,
    ].join('\n'),
  );
}

/** Key checks: NULL keys and duplicates, counted in one pass. */
export function keyCheckSql(d: SqlDialect, model: string): string {
  const t = d.quoteIdent(scratch.candidate(model));
  return `SELECT count(*) AS row_count,
  sum(CASE WHEN member_key IS NULL THEN 1 ELSE 0 END) AS null_keys,
  count(DISTINCT member_key) AS distinct_keys
FROM ${t}`;
}

export function duplicateKeysSql(d: SqlDialect, model: string): string {
  const t = d.quoteIdent(scratch.candidate(model));
  return `SELECT member_key, count(*) AS occurrences FROM ${t} WHERE member_key IS NOT NULL
GROUP BY member_key HAVING count(*) > 1 ORDER BY member_key LIMIT 3`;
}

/** Records each member's stable holdout group the first time it is seen with this salt. */
export function recordHoldoutsSql(d: SqlDialect, model: ModelDef, holdoutsTable: string, nowIso: string): string {
  const t = d.quoteIdent(scratch.candidate(model.name));
  return d.insertIgnore(
    holdoutsTable,
    ['model', 'member_key', 'group', 'salt', 'assigned_at'],
    `SELECT ${literal(model.name)}, member_key, CASE WHEN held_out THEN 'control' ELSE 'treatment' END, ${literal(model.holdout!.salt)}, ${d.timestamp(nowIso)}
FROM ${t} WHERE consented AND member_key IS NOT NULL`,
  );
}
