// Per sync: the delivery parts, the delta (delta.ts) reduced to what the platform holds. A platform
// holds identifiers, not members: a match identifier is added only when no member held it before,
// and removed only when no member holds it after, so a household email shared by two members stays
// until the last of them leaves.
// A platform's address (Google) is tracked the same way, as one identifier made of four kinds
// (address.ts): added, removed and replaced as a whole, shared addresses kept while a member holds them.
import type { IdentifierKind } from '../../core/identifiers.js';
import { partOfKey, snapshotReference } from './address.js';
import { addressParts, removedColumn, storedColumn, type SyncSqlSpec } from './delta.js';
import { literal, type SqlDialect } from './dialect.js';
import { scratch, snapshotColumn } from './names.js';

const matchKinds = (spec: SyncSqlSpec) => spec.identifiers.filter((i) => i.rule.role === 'match').map((i) => i.kind);

/**
 * What the platform holds as identifiers, each reference-counted: the match kinds (compared on the
 * snapshot column that keeps them) and the address (compared on its reference, built from the
 * snapshot's per-kind columns: address.ts).
 */
interface Tracked {
  name: string;
  /** Snapshot columns the value is read from. */
  columns: string[];
  /** The value in a snapshot row under this alias. */
  value(alias: string): string;
}

function tracked(d: SqlDialect, spec: SyncSqlSpec): Tracked[] {
  const list: Tracked[] = matchKinds(spec).map((k) => ({ name: k, columns: [snapshotColumn(k)], value: (alias) => `${alias}.${snapshotColumn(k)}` }));
  const parts = addressParts(spec);
  if (parts) list.push({ name: 'address', columns: parts.map((p) => snapshotColumn(p.kind)), value: (alias) => snapshotReference(d, parts, alias) });
  return list;
}

/**
 * Delivery parts: one row per member and op it needs sent, numbered so identical rows (members
 * sharing identifiers) share one row_id and are sent once. Adds carry all of the member's new values
 * when at least one match identifier is new to the audience; removes carry only the match
 * identifiers no remaining member holds (others blanked), plus attributes. Reference counting
 * compares what the snapshot keeps (newh/oldh), so it works for hashed and plain kinds alike.
 * An address counts as one match identifier: new when no member held it, its four parts removed
 * (from the key it was sent as) only when no remaining member holds it, otherwise left blank.
 * A member leaving whose orphaned identifiers cannot be sent at all (a plain-text kind whose source
 * row is gone, so only its hash is known), or a member leaving or changing whose orphaned address
 * cannot be (a snapshot row from before address_key), gets a 'lost' part: never sent, dead-lettered
 * by the outcome, visible in audsync_changes.
 */
export function partsSql(d: SqlDialect, spec: SyncSqlSpec, snapshots: string): string {
  const kinds = spec.identifiers.map((i) => i.kind);
  const sigs = (spec.signals ?? []).map((sig) => `sig_${sig}`);
  // With consent signals in the fingerprint, a changed member may hold all its identifiers already
  // and differ only in consent: it is added again so the platform gets the new signals.
  const consentChange = sigs.length > 0 ? " OR dl.op = 'change'" : '';
  const noSigs = sigs.map((c) => `, CAST(NULL AS ${d.types.text}) AS ${c}`).join('');
  const matches = matchKinds(spec);
  const held = tracked(d, spec);
  const address = addressParts(spec);
  // A tracked identifier's columns in the delta: the address has all four of its own.
  const identifier = (k: string) => spec.identifiers.find((i) => i.kind === k)!;
  const newh = (k: string) => (k === 'address' ? 'newh_address' : storedColumn(identifier(k)));
  const old = (k: string) => (k === 'address' ? 'old_address' : removedColumn(identifier(k)));
  const delta = d.quoteIdent(scratch.delta(spec.index));
  // Dead-lettered members send nothing: the platform keeps what their snapshot rows say it holds.
  // The delta and the snapshot are read in place, never as CTEs: an engine may materialize a CTE read
  // more than once (DuckDB does), which copied the whole snapshot, hashes and all (bench/).
  const dl = `(SELECT * FROM ${delta} WHERE NOT dead_lettered)`;
  const snap = (cols: string) => `(SELECT member_key, ${cols} FROM ${snapshots} WHERE ${spec.freshStart ? 'FALSE' : `sync_id = ${literal(d, spec.syncId)}`})`;
  const ctes: string[] = [];
  for (const { name: k, columns, value } of held) {
    const cols = columns.join(', ');
    const v = value('s');
    // Reference counts are needed only for the values this delta adds (before) or removes (after),
    // so only those are looked up in the snapshot, not every value it holds: one scan of the
    // snapshot per identifier finds both (refs_, small, so an engine may well materialize it; two
    // scans of 10M hashes took 1.6 s of a 1%-churn run at 10M; bench/).
    ctes.push(`refs_${k} AS (
  SELECT s.member_key, ${v} AS v FROM ${snap(cols)} s
  WHERE ${v} IN (SELECT ${newh(k)} FROM ${dl} n UNION ALL SELECT oldh_${k} FROM ${dl} o)
)`);
    ctes.push(`before_${k} AS (SELECT DISTINCT v FROM refs_${k} WHERE v IN (SELECT ${newh(k)} FROM ${dl} n))`);
    // DISTINCT over UNION ALL: BigQuery has no bare UNION, Snowflake no UNION DISTINCT.
    ctes.push(`after_${k} AS (
  SELECT DISTINCT v FROM (
    SELECT r.v FROM refs_${k} r LEFT JOIN ${dl} dl ON dl.member_key = r.member_key
    WHERE dl.member_key IS NULL AND r.v IN (SELECT oldh_${k} FROM ${dl} o)
    UNION ALL
    SELECT ${newh(k)} AS v FROM ${dl} dl WHERE ${newh(k)} IN (SELECT oldh_${k} FROM ${dl} o)
  ) u
)`);
  }
  const names = held.map((h) => h.name);
  const addJoins = names.map((k) => `LEFT JOIN before_${k} b_${k} ON b_${k}.v = dl.${newh(k)}`).join('\n  ');
  const anyNew = names.map((k) => `(dl.${newh(k)} IS NOT NULL AND b_${k}.v IS NULL)`).join(' OR ');
  ctes.push(`adds AS (
  SELECT dl.member_key, 'add' AS op, ${kinds.map((k) => `dl.new_${k} AS ${k}`).join(', ')}${sigs.map((c) => `, dl.new_${c} AS ${c}`).join('')}
  FROM ${dl} dl
  ${addJoins}
  WHERE dl.op IN ('add', 'change') AND (${spec.resendAll ? 'TRUE' : anyNew || 'FALSE'}${consentChange})
)`);
  const parts = ['SELECT * FROM adds'];
  if (spec.mode === 'mirror') {
    const removeJoins = names.map((k) => `LEFT JOIN after_${k} a_${k} ON a_${k}.v = dl.oldh_${k}`).join('\n  ');
    const orphan = (k: string) => `(dl.oldh_${k} IS NOT NULL AND a_${k}.v IS NULL)`;
    // An address's parts go out only with the address, all four read from the key it was sent as
    // (never alone, and never while another member still holds that address).
    const removeValue = (k: IdentifierKind) => {
      const part = address?.find((p) => p.kind === k);
      if (part) return `CASE WHEN ${orphan('address')} THEN ${partOfKey('dl.old_address', part)} END AS ${k}`;
      return matches.includes(k) ? `CASE WHEN ${orphan(k)} THEN dl.${old(k)} END AS ${k}` : `dl.${old(k)} AS ${k}`;
    };
    const anyOrphan = names.map(orphan).join(' OR ') || 'FALSE';
    const anySendable = names.map((k) => `(${orphan(k)} AND dl.${old(k)} IS NOT NULL)`).join(' OR ') || 'FALSE';
    // An orphaned address that cannot be sent (a snapshot row from before address_key existed whose
    // source row is gone or holds another address) is lost, even when the member's email is removed
    // or the member stays with a new address: reported, never silently left behind.
    const addressLost = address ? `, (${orphan('address')} AND dl.old_address IS NULL) AS address_lost` : '';
    ctes.push(`orphans AS (
  SELECT dl.member_key, dl.op AS member_op, ${kinds.map(removeValue).join(', ')}, ${anySendable} AS sendable${addressLost}
  FROM ${dl} dl
  ${removeJoins}
  WHERE dl.op IN ('remove', 'change') AND (${anyOrphan})
)`);
    ctes.push(`removes AS (SELECT member_key, 'remove' AS op, ${kinds.join(', ')}${noSigs} FROM orphans WHERE sendable)`);
    // Only for members leaving: a member changing identifiers still has its new ones tracked (an
    // unsendable old MADID is a known gap: docs/identity.md). An unsendable old address is lost either way.
    const lost = `NOT sendable AND member_op = 'remove'`;
    ctes.push(
      `lost AS (SELECT member_key, 'lost' AS op, ${kinds.map((k) => `CAST(NULL AS ${d.types.text}) AS ${k}`).join(', ')}${noSigs} FROM orphans WHERE ${address ? `(${lost}) OR address_lost` : lost})`,
    );
    parts.push('SELECT * FROM removes', 'SELECT * FROM lost');
  }
  ctes.push(`parts AS (${parts.join('\nUNION ALL\n')})`);
  // first_of_row marks one part of each row_id, the one encoded batches send: a DISTINCT over the
  // rows' JSON there took 10-25% of each batch query (bench/). rank() is the row_number() of the
  // first of its peers; the three share one window, so one sort.
  const order = `OVER (ORDER BY op, ${[...kinds, ...sigs].join(', ')})`;
  return d.createTempTableAs(
    scratch.parts(spec.index),
    `WITH ${ctes.join(',\n')}
SELECT member_key, op, ${[...kinds, ...sigs].join(', ')}, dense_rank() ${order} AS row_id, rank() ${order} = row_number() ${order} AS first_of_row
FROM parts`,
  );
}

/**
 * Rows to send per op: the span of the op's row ids, which are a dense rank ordered by op first
 * (partsSql; sendSpanSql relies on the same), so no DISTINCT over the rows is needed. The DISTINCT
 * this replaces took 0.9 s of a 10M-member first sync and its process's peak memory (bench/).
 */
export function partCountsSql(d: SqlDialect, spec: SyncSqlSpec): string {
  return `SELECT op, max(row_id) - min(row_id) + 1 AS n FROM ${d.quoteIdent(scratch.parts(spec.index))} GROUP BY op`;
}
