// Per model, once per run: the model's rows with consent, holdout and normalized identifiers
// (plain normalized text, transient, never leaves the warehouse). Hashing happens later, only for
// the rows that changed.
import type { IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { ConsentSignal, ModelDef } from '../../core/manifest.js';
import { literal, type SqlDialect } from './dialect.js';
import {
  cleanColumn,
  heldColumn,
  IN_MODEL,
  joinedColumns,
  kindsMaskColumn,
  NORMALIZED,
  normalizedColumn,
  presentColumn,
  scratch,
  signalColumn,
  snapshotFingerprintColumn,
  sourceFingerprintColumn,
} from './names.js';
import { normalizeSql, regionLettersSql, regionLookup, usesPhone, WS } from './normalize.js';
import { phoneStages } from './phone.js';
import type { SyncSqlSpec } from './delta.js';
import { memberCountColumns } from './members.js';
import { sourceFingerprintSql, type SourceSync } from './source.js';
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
  /** The run's syncs of this model: each gets its source fingerprint column, sfp_<index> (source.ts). */
  syncs?: SourceSync[];
  /**
   * The state's snapshots table: with it, rows whose source fingerprint matches the snapshot of
   * every sync in `syncs` are not normalized (normalized FALSE, their counts read from the snapshot's
   * kinds_mask). Without it (compile, --full-refresh, a sync sending to a new audience) every row is.
   */
  snapshots?: string;
}

const REGION = '_audsync_region';
const COUNTRY = '_audsync_country';
const LETTERS = '_audsync_country_letters';

/**
 * The candidate table. Columns: member_key, in_model, consented, held_out, source_updated_at,
 * normalized; per sync sfp_<index> (source.ts); per mapped kind `p_<kind>` (a value is present) and
 * per kind and rule `n_<kind>__<rule>` (normalized, NULL when invalid). Phones are parsed once into
 * E.164 digits with the row's region (phone.ts).
 * With options.snapshots, a row whose source fingerprints all match the snapshots (a member synced
 * before whose source row is unchanged) is left out: it was synced, so it is keyed, consented, not
 * held out and eligible, and its counts come from the snapshot's kinds_mask (cleanMasksSql), its
 * number from the model's row count (keyCheckSql). Per sync the table has held_, clean_,
 * snap_fp_<index> and kinds_mask_<index> (names.ts), and a row per snapshot member gone from the model.
 * A row is normalized when it differs somewhere, and it is consented or some snapshot holds it (a
 * removal may need its plain values, delta.ts); one neither consented nor synced never is (normalized
 * FALSE, p_ and n_ NULL, held_out FALSE).
 */
export function candidateSql(d: SqlDialect, model: ModelDef, identifiers: NormalizedIdentifier[], options: CandidateOptions = { defaultRegion: 'US' }): string {
  const q = d.quoteIdent;
  const col = (name: string) => `src.${q(name)}`;
  const key = `CAST(${col(model.key)} AS ${d.types.text})`;
  const consented = model.consent ? d.isTrue(col(model.consent)) : 'TRUE';
  const heldOut = model.holdout
    ? `(${d.mod(d.hexPrefixToInt(d.sha256Hex(`${literal(d, `${model.holdout.salt}:`)} || src._audsync_key`)), '10000')} < ${Math.round(model.holdout.percent * 100)})`
    : 'FALSE';
  const updatedAt = model.updatedAt ? `CAST(${col(model.updatedAt)} AS ${d.types.timestamp})` : `CAST(NULL AS ${d.types.timestamp})`;
  const countryColumn = model.identifiers.country;
  const syncs = options.syncs ?? [];
  const incremental = options.snapshots !== undefined && syncs.length > 0;
  const gate = (expr: string) => (incremental ? `CASE WHEN src._audsync_norm THEN ${expr} END` : expr);
  const snap = (s: SourceSync) => `_audsync_snap_${s.index}`;
  // Key, consent and source fingerprints first; then, incremental, the snapshots' fingerprints and
  // masks by a join on the key, which decides the rows the stages below normalize.
  const ctes = [
    `src AS ${modelSubquery(model)}`,
    `_audsync_k AS (SELECT src.*, ${key} AS _audsync_key, TRUE AS _audsync_row, ${consented} AS _audsync_consented${syncs
      .map((s) => `, ${sourceFingerprintSql(d, model, s, options.defaultRegion, col)} AS ${q(sourceFingerprintColumn(s.index))}`)
      .join('')} FROM src)`,
  ];
  if (incremental) {
    // A full outer join: a snapshot's member gone from the model comes out as a row too (in_model
    // FALSE, its key only), so this is the run's one join of the model with the snapshots and the
    // delta finds adds, changes and removals in this table alone (delta.ts).
    const clean = (s: SourceSync) => `coalesce(${snap(s)}.source_fingerprint = src.${q(sourceFingerprintColumn(s.index))}, FALSE)`;
    const heldBy = (s: SourceSync) => `${snap(s)}.member_key IS NOT NULL`;
    const keys = ['src._audsync_key'];
    const joins = syncs.map((s) => {
      const on = keys.length === 1 ? keys[0] : `coalesce(${keys.join(', ')})`;
      keys.push(`${snap(s)}.member_key`);
      return `FULL OUTER JOIN (SELECT member_key, fingerprint, source_fingerprint, kinds_mask FROM ${options.snapshots} WHERE sync_id = ${literal(d, s.syncId)}) ${snap(s)} ON ${snap(s)}.member_key = ${on}`;
    });
    const perSync = syncs.map(
      (s) =>
        `, ${snap(s)}.kinds_mask AS ${q(kindsMaskColumn(s.index))}, ${heldBy(s)} AS ${q(heldColumn(s.index))}, ${clean(s)} AS ${q(cleanColumn(s.index))}, ${snap(s)}.fingerprint AS ${q(snapshotFingerprintColumn(s.index))}`,
    );
    // A row unchanged for every sync (in the model, clean for all) is left out of the table: its
    // counts come from the snapshots (cleanMasksSql) and the model's row count (keyCheckSql). At 10M
    // members, carrying the 9M unchanged rows through the stages below and into the table was a third
    // of a 1%-churn run (bench/).
    ctes.push(`_audsync_m AS (
  SELECT * FROM (
    SELECT src.*, coalesce(${keys.join(', ')}) AS _audsync_member, coalesce(src._audsync_row, FALSE) AS _audsync_in_model,
      (coalesce(src._audsync_row, FALSE) AND NOT (${syncs.map(clean).join(' AND ')}) AND (src._audsync_consented OR ${syncs.map(heldBy).join(' OR ')})) AS _audsync_norm${perSync.join('')}
    FROM _audsync_k src
    ${joins.join('\n    ')}
  ) j
  WHERE NOT (j._audsync_in_model AND ${syncs.map((s) => `j.${q(cleanColumn(s.index))}`).join(' AND ')})
)`);
  } else {
    ctes.push(`_audsync_m AS (SELECT src.*, src._audsync_key AS _audsync_member, TRUE AS _audsync_in_model, TRUE AS _audsync_norm FROM _audsync_k src)`);
  }
  // The country identifier is read once per row; the country rules and the phone region use that
  // column. It is regionSql's answer, found by a hash join on the value's letters (regionLookup(),
  // tested equal) rather than by regionSql's long CASE; the letters are computed once, in their own stage.
  if (countryColumn) {
    ctes.push(
      `_audsync_regions AS (${d.valuesTable(['letters', 'code'], regionLookup())})`,
      `_audsync_l0 AS (SELECT src.*, ${gate(regionLettersSql(d, col(countryColumn)))} AS ${LETTERS} FROM _audsync_m src)`,
      `_audsync_s0 AS (SELECT l.*, r.code AS ${COUNTRY} FROM _audsync_l0 l LEFT JOIN _audsync_regions r ON r.letters = l.${LETTERS})`,
    );
  } else {
    ctes.push(`_audsync_s0 AS (SELECT src.*, CAST(NULL AS ${d.types.text}) AS ${COUNTRY} FROM _audsync_m src)`);
  }
  ctes.push(
    `_audsync_s1 AS (SELECT s.*, coalesce(s.${COUNTRY}, ${literal(d, options.defaultRegion)}) AS ${REGION} FROM _audsync_s0 s)`,
  );
  let last = '_audsync_s1';
  const phoneColumn = model.identifiers.phone;
  if (phoneColumn && identifiers.some((i) => i.kind === 'phone' && usesPhone(i.rule))) {
    const stages = phoneStages(d, last, phoneColumn, REGION, incremental ? '_audsync_norm' : undefined);
    ctes.push(...stages.ctes);
    last = stages.output;
  }

  const columns = [
    `src._audsync_member AS member_key`,
    `src._audsync_in_model AS ${IN_MODEL}`,
    `src._audsync_consented AS consented`,
    `${incremental ? `CASE WHEN src._audsync_norm THEN ${heldOut} ELSE FALSE END` : heldOut} AS held_out`,
    `${updatedAt} AS source_updated_at`,
    `src._audsync_norm AS ${NORMALIZED}`,
    ...syncs.map((s) => `src.${q(sourceFingerprintColumn(s.index))}`),
    ...(incremental ? syncs.flatMap((s) => [kindsMaskColumn(s.index), ...joinedColumns(s.index)].map((c) => `src.${q(c)}`)) : []),
  ];
  const kinds = new Set<string>();
  const seen = new Set<string>();
  for (const { kind, rule } of identifiers) {
    const column = model.identifiers[kind];
    if (!column) continue;
    if (!kinds.has(kind)) {
      kinds.add(kind);
      columns.push(`${gate(presentSql(d, col(column)))} AS ${q(presentColumn(kind))}`);
    }
    const name = normalizedColumn(kind, rule.normalizer);
    if (seen.has(name)) continue;
    seen.add(name);
    const context = { column: col(column), region: `src.${REGION}`, phoneDigits: 'src._audsync_phone', countryCode: `src.${COUNTRY}` };
    columns.push(`${gate(normalizeSql(d, rule, context))} AS ${q(name)}`);
  }
  for (const signal of options.signals ?? []) {
    const column = model.consentSignals?.[signal];
    if (!column) continue;
    // A boolean column, or text such as 'granted'/'denied'; anything else is unspecified (NULL).
    const v = `lower(${d.regexReplaceAll(`CAST(${col(column)} AS ${d.types.text})`, `[${WS}]+`, '')})`;
    columns.push(
      `${gate(`CASE WHEN ${v} IN ('true', 't', 'granted', 'yes', '1') THEN 'GRANTED' WHEN ${v} IN ('false', 'f', 'denied', 'no', '0') THEN 'DENIED' END`)} AS ${q(signalColumn(signal))}`,
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

/** A sync whose snapshot an incremental candidate was joined with, for keyCheckSql. */
export interface JoinedSnapshot {
  index: number;
  syncId: string;
  snapshots: string;
  /** The model's query as a subquery (modelSubquery): its rows are counted, unchanged ones too. */
  model: string;
}

/**
 * Key checks: NULL keys and duplicates, counted in one pass, with the rows normalized this run and
 * each given sync's member counts (memberCountColumns, prefixed `s<index>__`): one scan of the
 * candidate for all of them (each was a scan of 10M rows of its own; bench/).
 * distinct_keys is below the keyed rows exactly when a key repeats. Over a candidate joined with a
 * snapshot it is counted without a DISTINCT over every key (about 1 s at 10M): a model row whose
 * key the snapshot holds joined that snapshot row (held_), so the keys split into held and unheld
 * ones; unheld keys are counted DISTINCT (new, invalid and unconsented members: few), and a held
 * key repeats exactly when the snapshot's rows come out of the join more often than it has them.
 * Such a candidate leaves out the unchanged rows (candidateSql), each of them held: their number is
 * the model's rows less the candidate's, so the model's rows are counted (an engine reads no column
 * for that where it can; 0.04 s of a 10M-row table in DuckDB).
 */
export function keyCheckSql(d: SqlDialect, model: string, syncs: SyncSqlSpec[] = [], joined?: JoinedSnapshot): string {
  const t = d.quoteIdent(scratch.candidate(model));
  const counts = syncs.flatMap((s) => memberCountColumns(d, s, syncCountsPrefix(s.index)));
  const common = `sum(CASE WHEN ${IN_MODEL} AND member_key IS NULL THEN 1 ELSE 0 END) AS null_keys,
  sum(CASE WHEN ${IN_MODEL} AND ${NORMALIZED} THEN 1 ELSE 0 END) AS normalized_rows${counts.map((c) => `,\n  ${c}`).join('')}`;
  if (!joined) {
    return `SELECT sum(CASE WHEN ${IN_MODEL} THEN 1 ELSE 0 END) AS row_count,
  count(DISTINCT CASE WHEN ${IN_MODEL} THEN member_key END) AS distinct_keys,
  ${common}
FROM ${t}`;
  }
  const held = d.quoteIdent(heldColumn(joined.index));
  const snapshotRows = `(SELECT count(*) FROM ${joined.snapshots} WHERE sync_id = ${literal(d, joined.syncId)})`;
  // Sums over no rows are NULL: a candidate with nothing changed is empty.
  const unchanged = '(m.model_rows - coalesce(k.candidate_rows, 0))';
  return `SELECT k.*, m.model_rows AS row_count,
  k.unheld_keys + coalesce(k.held_in_model, 0) + ${unchanged} - CASE WHEN coalesce(k.held_rows, 0) + ${unchanged} > ${snapshotRows} THEN 1 ELSE 0 END AS distinct_keys
FROM (
  SELECT sum(CASE WHEN ${IN_MODEL} THEN 1 ELSE 0 END) AS candidate_rows,
  count(DISTINCT CASE WHEN ${IN_MODEL} AND NOT ${held} THEN member_key END) AS unheld_keys,
  sum(CASE WHEN ${IN_MODEL} AND ${held} THEN 1 ELSE 0 END) AS held_in_model,
  sum(CASE WHEN ${held} THEN 1 ELSE 0 END) AS held_rows,
  ${common}
  FROM ${t}
) k
CROSS JOIN (SELECT count(*) AS model_rows FROM ${joined.model} src) m`;
}

/** The prefix of a sync's member counts in keyCheckSql's row. */
export const syncCountsPrefix = (index: number) => `s${index}__`;

/** One sync's member counts out of keyCheckSql's row, named as memberCountsSql names them. */
export function syncCountsOf(row: Record<string, unknown>, index: number): Record<string, number> {
  const prefix = syncCountsPrefix(index);
  return Object.fromEntries(Object.entries(row).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), Number(v ?? 0)]] : [])));
}

/**
 * Up to three repeated keys, read from the model itself: an incremental candidate lacks the rows
 * that did not change, and a key may repeat among them. Only a failing run asks.
 */
export function duplicateKeysSql(d: SqlDialect, model: ModelDef): string {
  const key = `CAST(src.${d.quoteIdent(model.key)} AS ${d.types.text})`;
  return `SELECT ${key} AS member_key, count(*) AS occurrences FROM ${modelSubquery(model)} src WHERE src.${d.quoteIdent(model.key)} IS NOT NULL
GROUP BY ${key} HAVING count(*) > 1 ORDER BY ${key} LIMIT 3`;
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
