// Source fingerprints: how a run skips normalizing members whose source rows did not change.
// Normalizing (regexes, phone parsing) every member on every run dominated a run at 10M members
// (bench/). A sync's source fingerprint is a fast 64-bit hash of the raw columns it reads (its
// identifiers, the country that sets a phone's region, consent and consent signals) and of how it
// reads them (rules, default region, holdout, audsync's version). The snapshot keeps it per member
// with the kinds that were present and valid (kinds_mask); a member whose fingerprint still matches
// the snapshot of every selected sync is neither normalized nor compared again (candidate.ts), and
// its counts come from kinds_mask. Neither value holds an identifier: the hash is of raw values,
// and like the fingerprint of normalized ones (delta.ts) it never leaves the warehouse.
import { IDENTIFIER_KINDS, type IdentifierKind, type IdentifierRule } from '../../core/identifiers.js';
import type { ConsentSignal, ModelDef } from '../../core/manifest.js';
import { AUDSYNC_VERSION } from '../../core/version.js';
import { literal, type SqlDialect } from './dialect.js';
import { heldColumn, kindsMaskColumn, scratch } from './names.js';

/** A sync whose snapshot the candidate is compared with. */
export interface SourceSync {
  /** Suffix of the candidate's sfp_<index> column (the sync's place in the run). */
  index: number;
  syncId: string;
  identifiers: { kind: IdentifierKind; rule: IdentifierRule }[];
  signals?: ConsentSignal[];
}

/** kinds_mask: bit k when kind k (IDENTIFIER_KINDS order) was present, bit 16 + k when it was valid. */
export const presentBit = (kind: IdentifierKind) => 2 ** IDENTIFIER_KINDS.indexOf(kind);
export const validBit = (kind: IdentifierKind) => 2 ** (16 + IDENTIFIER_KINDS.indexOf(kind));

/**
 * The sync's source fingerprint of a row; `column` gives a model column as SQL. Everything its
 * normalized values, eligibility and signals are computed from goes in, so equal fingerprints mean
 * equal results. The version is in it too: an upgrade may normalize differently, so the first run
 * after one normalizes every member again.
 */
export function sourceFingerprintSql(d: SqlDialect, model: ModelDef, sync: SourceSync, defaultRegion: string, column: (name: string) => string): string {
  const how = [
    `audsync ${AUDSYNC_VERSION}`,
    `region ${defaultRegion}`,
    `holdout ${model.holdout ? `${model.holdout.salt}:${model.holdout.percent}` : '-'}`,
    sync.identifiers.map((i) => `${i.kind}:${i.rule.role}:${i.rule.normalizer}:${i.rule.encoding}`).join(','),
    `signals ${(sync.signals ?? []).join(',')}`,
  ].join('|');
  const columns = new Set<string>();
  for (const { kind } of sync.identifiers) columns.add(model.identifiers[kind]!);
  if (model.identifiers.country) columns.add(model.identifiers.country);
  if (model.consent) columns.add(model.consent);
  for (const signal of sync.signals ?? []) if (model.consentSignals?.[signal]) columns.add(model.consentSignals[signal]!);
  return d.hash64([literal(d, how), ...[...columns].map((c) => `CAST(${column(c)} AS ${d.types.text})`)]);
}

/** kinds_mask of a member from SQL booleans per kind (present, valid). */
export function kindsMaskSql(identifiers: { kind: IdentifierKind }[], present: (kind: IdentifierKind) => string, valid: (kind: IdentifierKind) => string): string {
  const terms = identifiers.flatMap(({ kind }) => [
    `CASE WHEN ${present(kind)} THEN ${presentBit(kind)} ELSE 0 END`,
    `CASE WHEN ${valid(kind)} THEN ${validBit(kind)} ELSE 0 END`,
  ]);
  return terms.length > 0 ? `(${terms.join(' + ')})` : '0';
}

/**
 * The members an incremental candidate left out as unchanged (candidate.ts), per sync and kinds_mask:
 * the sync's snapshot rows less those of its members the candidate holds (changed, or gone from the
 * model), grouped by the snapshot's kinds_mask. Exact when no key repeats; a repeated key fails the
 * run (keyCheckSql). A few dozen rows, from which cleanCounts adds what memberCountColumns leaves out.
 */
export function cleanMasksSql(d: SqlDialect, model: string, syncs: { index: number; syncId: string }[], snapshots: string): string {
  if (syncs.length === 0) return `SELECT 0 AS sync_index, 0 AS kinds_mask, 0 AS n WHERE FALSE`;
  const candidate = d.quoteIdent(scratch.candidate(model));
  return syncs
    .map((s) => {
      const mask = d.quoteIdent(kindsMaskColumn(s.index));
      return `SELECT ${s.index} AS sync_index, kinds_mask, sum(n) AS n FROM (
  SELECT kinds_mask, count(*) AS n FROM ${snapshots} WHERE sync_id = ${literal(d, s.syncId)} GROUP BY kinds_mask
  UNION ALL
  SELECT ${mask} AS kinds_mask, 0 - count(*) AS n FROM ${candidate} WHERE ${d.quoteIdent(heldColumn(s.index))} GROUP BY ${mask}
) g${s.index}
GROUP BY kinds_mask HAVING sum(n) <> 0`;
    })
    .join('\nUNION ALL\n');
}

/**
 * A sync's member counts (memberCountsSql's names) with its unchanged members added from
 * cleanMasksSql's groups: each is a member (it was synced, so it is eligible and valid), and its
 * kinds present and invalid are as its snapshot row says.
 */
export function cleanCounts(counts: Record<string, number>, sync: SourceSync, groups: Record<string, unknown>[]): Record<string, number> {
  const out = { ...counts };
  const add = (name: string, n: number) => (out[name] = (out[name] ?? 0) + n);
  for (const group of groups) {
    if (Number(group.sync_index) !== sync.index) continue;
    const n = Number(group.n ?? 0);
    const mask = Number(group.kinds_mask ?? 0);
    add('members', n);
    for (const { kind } of sync.identifiers) {
      if (!has(mask, presentBit(kind))) continue;
      add(`present_${kind}`, n);
      if (!has(mask, validBit(kind))) add(`invalid_${kind}`, n);
    }
  }
  return out;
}

const has = (mask: number, bit: number) => Math.floor(mask / bit) % 2 === 1;
