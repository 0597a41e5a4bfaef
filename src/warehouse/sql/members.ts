// Which candidate rows a sync sends and how they are counted: eligibility, validity per kind, the
// kinds_mask a snapshot row keeps (source.ts), and the member counts plan and run report.
import type { IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { SyncSqlSpec } from './delta.js';
import type { SqlDialect } from './dialect.js';
import { IN_MODEL, NORMALIZED, normalizedColumn, presentColumn, scratch } from './names.js';
import { kindsMaskSql } from './source.js';

type Identifier = { kind: IdentifierKind; rule: IdentifierRule };

/** A candidate's normalized column for a kind under the sync's rule, optionally qualified by an alias. */
export const normalizedRef = (d: SqlDialect, i: Identifier, alias?: string) => `${alias ? `${alias}.` : ''}${d.quoteIdent(normalizedColumn(i.kind, i.rule.normalizer))}`;

/** A candidate row's kind is valid under the sync's rule (SQL boolean; FALSE on rows not normalized). */
const validOf = (d: SqlDialect, i: Identifier, alias?: string) => `${normalizedRef(d, i, alias)} IS NOT NULL`;

/** Some match identifier of the sync is valid (SQL boolean over candidate columns). */
function anyValidSql(d: SqlDialect, spec: SyncSqlSpec, alias?: string): string {
  const any = spec.identifiers.filter((i) => i.rule.role === 'match').map((i) => validOf(d, i, alias));
  return `(${any.join(' OR ') || 'FALSE'})`;
}

/** A candidate row the sync sends: in the model, consented, not held out, keyed, with a valid match identifier. */
export function eligibleSql(d: SqlDialect, spec: SyncSqlSpec, alias?: string): string {
  const a = alias ? `${alias}.` : '';
  return `${a}${IN_MODEL} AND ${a}consented AND NOT ${a}held_out AND ${a}member_key IS NOT NULL AND ${anyValidSql(d, spec, alias)}`;
}

/** The kinds_mask (source.ts) of a candidate row for this sync's kinds. */
export function kindsMaskOf(d: SqlDialect, spec: SyncSqlSpec, alias?: string): string {
  const a = alias ? `${alias}.` : '';
  return kindsMaskSql(spec.identifiers, (k) => `${a}${d.quoteIdent(presentColumn(k))}`, (k) => validOf(d, spec.identifiers.find((i) => i.kind === k)!, alias));
}

/**
 * The aggregates of memberCountsSql, each named `<prefix><count>`, so they can share a scan with
 * the key checks (candidate.ts). Identifier counts read normalized rows only: an incremental
 * candidate's others are members whose counts are in their snapshot's kinds_mask (cleanCounts in
 * source.ts adds them), and rows neither consented nor synced, which only no_consent counts.
 */
export function memberCountColumns(d: SqlDialect, spec: SyncSqlSpec, prefix = ''): string[] {
  const valid = anyValidSql(d, spec);
  const keyed = `${IN_MODEL} AND member_key IS NOT NULL`;
  const eligible = `${keyed} AND ${NORMALIZED} AND consented AND NOT held_out`;
  const perKind = spec.identifiers.flatMap((i) => {
    const p = d.quoteIdent(presentColumn(i.kind));
    return [
      `sum(CASE WHEN ${eligible} AND ${p} THEN 1 ELSE 0 END) AS ${prefix}present_${i.kind}`,
      `sum(CASE WHEN ${eligible} AND ${p} AND NOT ${validOf(d, i)} THEN 1 ELSE 0 END) AS ${prefix}invalid_${i.kind}`,
    ];
  });
  return [
    ...perKind,
    `sum(CASE WHEN ${keyed} AND NOT consented THEN 1 ELSE 0 END) AS ${prefix}no_consent`,
    `sum(CASE WHEN ${keyed} AND consented AND held_out THEN 1 ELSE 0 END) AS ${prefix}held_out`,
    `sum(CASE WHEN ${eligible} AND NOT ${valid} THEN 1 ELSE 0 END) AS ${prefix}invalid`,
    `sum(CASE WHEN ${eligible} AND ${valid} THEN 1 ELSE 0 END) AS ${prefix}members`,
  ];
}

/**
 * Counts for plan and run: eligible members and members excluded as invalid (no valid match
 * identifier). Exact on a whole candidate; on an incremental one the runner adds the unnormalized
 * members from their kinds_mask (cleanCounts, source.ts).
 */
export function memberCountsSql(d: SqlDialect, spec: SyncSqlSpec): string {
  return `SELECT
  ${memberCountColumns(d, spec).join(',\n  ')}
FROM ${d.quoteIdent(scratch.candidate(spec.model))}`;
}
