// Per model, once per run: the model's rows with consent, holdout and normalized identifiers
// (plain normalized text, transient, never leaves the warehouse). Hashing happens later, only for
// the rows that changed.
import type { IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { ConsentSignal, ModelDef } from '../../core/manifest.js';
import { literal, type SqlDialect } from './dialect.js';
import { normalizedColumn, presentColumn, scratch, signalColumn } from './names.js';
import { normalizeSql, regionLettersSql, regionLookup, usesPhone, WS } from './normalize.js';
import { phoneStages } from './phone.js';
import { stripTrailingTerminator } from './trailing.js';

export interface NormalizedIdentifier {
  kind: IdentifierKind;
  rule: IdentifierRule;
}

/**
 * The model's SQL as a subquery: a trailing statement terminator goes (with any comments after it);
 * the closing ')' goes on its own line so a last '--' comment cannot swallow it.
 */
export function modelSubquery(model: ModelDef): string {
  return `(\n${stripTrailingTerminator(model.sql.trim())}\n)`;
}

export interface CandidateOptions {
  /** ISO-2 region for rows whose country identifier is missing (defaults.default_country). */
  defaultRegion: string;
  /** Consent signals some sync of this model sends (read from model.consentSignals). */
  signals?: ConsentSignal[];
}

const REGION = '_audsync_region';
const COUNTRY = '_audsync_country';
const LETTERS = '_audsync_country_letters';

/**
 * The candidate table. Columns: member_key, consented, held_out, source_updated_at; per mapped kind
 * `p_<kind>` (a value is present) and per kind and rule `n_<kind>__<rule>` (normalized, NULL when
 * invalid). Phones are parsed once into E.164 digits with the row's region (phone.ts).
 */
export function candidateSql(d: SqlDialect, model: ModelDef, identifiers: NormalizedIdentifier[], options: CandidateOptions = { defaultRegion: 'US' }): string {
  const q = d.quoteIdent;
  const col = (name: string) => `src.${q(name)}`;
  const key = `CAST(${col(model.key)} AS ${d.types.text})`;
  const consented = model.consent ? d.isTrue(col(model.consent)) : 'TRUE';
  const heldOut = model.holdout
    ? `(${d.mod(d.hexPrefixToInt(d.sha256Hex(`${literal(d, `${model.holdout.salt}:`)} || ${key}`)), '10000')} < ${Math.round(model.holdout.percent * 100)})`
    : 'FALSE';
  const updatedAt = model.updatedAt ? `CAST(${col(model.updatedAt)} AS ${d.types.timestamp})` : `CAST(NULL AS ${d.types.timestamp})`;
  const countryColumn = model.identifiers.country;
  // The country identifier is read once per row; the country rules and the phone region use that
  // column. It is regionSql's answer, found by a hash join on the value's letters (regionLookup(),
  // tested equal) rather than by regionSql's long CASE; the letters are computed once, in their own stage.
  const ctes = [`src AS ${modelSubquery(model)}`];
  if (countryColumn) {
    ctes.push(
      `_audsync_regions AS (${d.valuesTable(['letters', 'code'], regionLookup())})`,
      `_audsync_l0 AS (SELECT src.*, ${regionLettersSql(d, col(countryColumn))} AS ${LETTERS} FROM src)`,
      `_audsync_s0 AS (SELECT l.*, r.code AS ${COUNTRY} FROM _audsync_l0 l LEFT JOIN _audsync_regions r ON r.letters = l.${LETTERS})`,
    );
  } else {
    ctes.push(`_audsync_s0 AS (SELECT src.*, CAST(NULL AS ${d.types.text}) AS ${COUNTRY} FROM src)`);
  }
  ctes.push(
    `_audsync_s1 AS (SELECT s.*, coalesce(s.${COUNTRY}, ${literal(d, options.defaultRegion)}) AS ${REGION} FROM _audsync_s0 s)`,
  );
  let last = '_audsync_s1';
  const phoneColumn = model.identifiers.phone;
  if (phoneColumn && identifiers.some((i) => i.kind === 'phone' && usesPhone(i.rule))) {
    const stages = phoneStages(d, last, phoneColumn, REGION);
    ctes.push(...stages.ctes);
    last = stages.output;
  }

  const columns = [
    `${key} AS member_key`,
    `${consented} AS consented`,
    `${heldOut} AS held_out`,
    `${updatedAt} AS source_updated_at`,
  ];
  const kinds = new Set<string>();
  const seen = new Set<string>();
  for (const { kind, rule } of identifiers) {
    const column = model.identifiers[kind];
    if (!column) continue;
    if (!kinds.has(kind)) {
      kinds.add(kind);
      columns.push(`${presentSql(d, col(column))} AS ${q(presentColumn(kind))}`);
    }
    const name = normalizedColumn(kind, rule.normalizer);
    if (seen.has(name)) continue;
    seen.add(name);
    const context = { column: col(column), region: `src.${REGION}`, phoneDigits: 'src._audsync_phone', countryCode: `src.${COUNTRY}` };
    columns.push(`${normalizeSql(d, rule, context)} AS ${q(name)}`);
  }
  for (const signal of options.signals ?? []) {
    const column = model.consentSignals?.[signal];
    if (!column) continue;
    // A boolean column, or text such as 'granted'/'denied'; anything else is unspecified (NULL).
    const v = `lower(${d.regexReplaceAll(`CAST(${col(column)} AS ${d.types.text})`, `[${WS}]+`, '')})`;
    columns.push(
      `CASE WHEN ${v} IN ('true', 't', 'granted', 'yes', '1') THEN 'GRANTED' WHEN ${v} IN ('false', 'f', 'denied', 'no', '0') THEN 'DENIED' END AS ${q(signalColumn(signal))}`,
    );
  }
  return d.createTempTableAs(
    scratch.candidate(model.name),
    `WITH ${ctes.join(',\n')}\nSELECT\n  ${columns.join(',\n  ')}\nFROM ${last} AS src`,
  );
}

/**
 * A value is present when it holds something besides whitespace. Tested as "not whitespace only" by
 * a full match, which stops at the first other character; removing all whitespace and comparing
 * with '' (the same answer) copied every value whole (bench/).
 */
export function presentSql(d: SqlDialect, column: string): string {
  return `(${column} IS NOT NULL AND NOT ${d.regexFullMatch(`CAST(${column} AS ${d.types.text})`, `[${WS}]*`)})`;
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
    `SELECT ${literal(d, model.name)}, member_key, CASE WHEN held_out THEN 'control' ELSE 'treatment' END, ${literal(d, model.holdout!.salt)}, ${d.timestamp(nowIso)}
FROM ${t} WHERE consented AND member_key IS NOT NULL`,
  );
}
