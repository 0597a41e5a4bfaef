// Per model, once per run: the model's rows with consent, holdout and normalized identifiers
// (plain normalized text, transient, never leaves the warehouse). Hashing happens later, only for
// the rows that changed.
import type { IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { ConsentSignal, ModelDef } from '../../core/manifest.js';
import { literal, type SqlDialect } from './dialect.js';
import { NORMALIZED, normalizedColumn, presentColumn, scratch, signalColumn, sourceFingerprintColumn, validColumn } from './names.js';
import { normalizeSql, regionLettersSql, regionLookup, usesPhone, WS } from './normalize.js';
import { phoneStages } from './phone.js';
import { hasBit, presentBit, sourceFingerprintSql, validBit, type SourceSync } from './source.js';
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
 * The candidate table. Columns: member_key, consented, held_out, source_updated_at, normalized; per
 * sync sfp_<index> (source.ts); per mapped kind `p_<kind>` (a value is present) and per kind and rule
 * `n_<kind>__<rule>` (normalized, NULL when invalid) with `v_<kind>__<rule>` (valid). Phones are
 * parsed once into E.164 digits with the row's region (phone.ts).
 * With options.snapshots, a row whose source fingerprints all match the snapshots (a member synced
 * before whose source row is unchanged) is carried through unnormalized: normalized FALSE, n_ NULL,
 * held_out FALSE (it was synced, so it was not held out), p_ and v_ from its snapshot's kinds_mask.
 * A row is normalized when it differs somewhere, and it is consented or some snapshot holds it (a
 * removal may need its plain values, delta.ts); one neither consented nor synced never is.
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
    `_audsync_k AS (SELECT src.*, ${key} AS _audsync_key, ${consented} AS _audsync_consented${syncs
      .map((s) => `, ${sourceFingerprintSql(d, model, s, options.defaultRegion, col)} AS ${q(sourceFingerprintColumn(s.index))}`)
      .join('')} FROM src)`,
  ];
  if (incremental) {
    const clean = syncs.map((s) => `coalesce(${snap(s)}.source_fingerprint = src.${q(sourceFingerprintColumn(s.index))}, FALSE)`).join(' AND ');
    const held = syncs.map((s) => `${snap(s)}.member_key IS NOT NULL`).join(' OR ');
    const joins = syncs
      .map((s) => `LEFT JOIN (SELECT member_key, source_fingerprint, kinds_mask FROM ${options.snapshots} WHERE sync_id = ${literal(d, s.syncId)}) ${snap(s)} ON ${snap(s)}.member_key = src._audsync_key`)
      .join('\n  ');
    ctes.push(`_audsync_m AS (
  SELECT src.*, (NOT (${clean}) AND (src._audsync_consented OR ${held})) AS _audsync_norm${syncs.map((s) => `, ${snap(s)}.kinds_mask AS _audsync_mask_${s.index}`).join('')}
  FROM _audsync_k src
  ${joins}
)`);
  } else {
    ctes.push(`_audsync_m AS (SELECT src.*, TRUE AS _audsync_norm FROM _audsync_k src)`);
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

  // For a row not normalized, a kind's presence and validity under a rule come from the snapshot of
  // the first sync that sends the kind by that rule (every sync's snapshot holds the row).
  const maskOf = (test: (s: SourceSync) => boolean) => {
    const s = incremental ? syncs.find(test) : undefined;
    return s ? `c._audsync_mask_${s.index}` : undefined;
  };
  const inner = [
    `src._audsync_key AS member_key`,
    `src._audsync_consented AS consented`,
    `${incremental ? `CASE WHEN src._audsync_norm THEN ${heldOut} ELSE FALSE END` : heldOut} AS held_out`,
    `${updatedAt} AS source_updated_at`,
    `src._audsync_norm AS ${NORMALIZED}`,
    ...syncs.map((s) => `src.${q(sourceFingerprintColumn(s.index))}`),
    ...(incremental ? syncs.map((s) => `src._audsync_mask_${s.index}`) : []),
  ];
  const outer = ['c.member_key', 'c.consented', 'c.held_out', 'c.source_updated_at', `c.${NORMALIZED}`, ...syncs.map((s) => `c.${q(sourceFingerprintColumn(s.index))}`)];
  const kinds = new Set<string>();
  const seen = new Set<string>();
  for (const { kind, rule } of identifiers) {
    const column = model.identifiers[kind];
    if (!column) continue;
    if (!kinds.has(kind)) {
      kinds.add(kind);
      inner.push(`${gate(presentSql(d, col(column)))} AS ${q(presentColumn(kind))}`);
      const mask = maskOf((s) => s.identifiers.some((i) => i.kind === kind));
      outer.push(mask ? `CASE WHEN c.${NORMALIZED} THEN c.${q(presentColumn(kind))} ELSE ${hasBit(d, mask, presentBit(kind))} END AS ${q(presentColumn(kind))}` : `c.${q(presentColumn(kind))}`);
    }
    const name = normalizedColumn(kind, rule.normalizer);
    if (seen.has(name)) continue;
    seen.add(name);
    const context = { column: col(column), region: `src.${REGION}`, phoneDigits: 'src._audsync_phone', countryCode: `src.${COUNTRY}` };
    inner.push(`${gate(normalizeSql(d, rule, context))} AS ${q(name)}`);
    const mask = maskOf((s) => s.identifiers.some((i) => i.kind === kind && i.rule.normalizer === rule.normalizer));
    const valid = `c.${q(name)} IS NOT NULL`;
    outer.push(`c.${q(name)}`, `${mask ? `CASE WHEN c.${NORMALIZED} THEN ${valid} ELSE ${hasBit(d, mask, validBit(kind))} END` : valid} AS ${q(validColumn(kind, rule.normalizer))}`);
  }
  for (const signal of options.signals ?? []) {
    const column = model.consentSignals?.[signal];
    if (!column) continue;
    // A boolean column, or text such as 'granted'/'denied'; anything else is unspecified (NULL).
    const v = `lower(${d.regexReplaceAll(`CAST(${col(column)} AS ${d.types.text})`, `[${WS}]+`, '')})`;
    inner.push(
      `${gate(`CASE WHEN ${v} IN ('true', 't', 'granted', 'yes', '1') THEN 'GRANTED' WHEN ${v} IN ('false', 'f', 'denied', 'no', '0') THEN 'DENIED' END`)} AS ${q(signalColumn(signal))}`,
    );
    outer.push(`c.${q(signalColumn(signal))}`);
  }
  return d.createTempTableAs(
    scratch.candidate(model.name),
    `WITH ${ctes.join(',\n')}\nSELECT\n  ${outer.join(',\n  ')}\nFROM (\nSELECT\n  ${inner.join(',\n  ')}\nFROM ${last} AS src\n) c`,
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

/** Key checks: NULL keys and duplicates, counted in one pass, with the rows normalized this run. */
export function keyCheckSql(d: SqlDialect, model: string): string {
  const t = d.quoteIdent(scratch.candidate(model));
  return `SELECT count(*) AS row_count,
  sum(CASE WHEN member_key IS NULL THEN 1 ELSE 0 END) AS null_keys,
  count(DISTINCT member_key) AS distinct_keys,
  sum(CASE WHEN ${NORMALIZED} THEN 1 ELSE 0 END) AS normalized_rows
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
