// Per sync: the member-level delta against the snapshot: who is added, removed or changed, with
// the values to send and to keep (parts.ts turns it into what the platform is sent).
// Dead letters: a member change that failed max_attempts times with the same data stays in the delta,
// flagged dead_lettered, so it is counted, but it is never sent and never recorded again until its
// data (fingerprint) changes.
import type { AddressRule, IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { ConsentSignal, SyncMode } from '../../core/manifest.js';
import { addressLayout, joinParts, type AddressPart } from './address.js';
import { literal, type SqlDialect } from './dialect.js';
import { eligibleSql, kindsMaskOf, normalizedRef } from './members.js';
import { cleanColumn, heldColumn, normalizedColumn, scratch, signalColumn, snapshotColumn, snapshotFingerprintColumn, sourceFingerprintColumn } from './names.js';
import { encodeSql, storedSql } from './normalize.js';

export interface SyncSqlSpec {
  syncId: string;
  index: number; // suffix of this sync's scratch tables
  model: string;
  mode: SyncMode;
  /** Kinds this sync sends, in payload order, each with the platform's rule. */
  identifiers: { kind: IdentifierKind; rule: IdentifierRule }[];
  /** Diff against an empty snapshot (the sync now points at another audience). */
  freshStart: boolean;
  /** Send every eligible member's identifiers again, held or not (--full-refresh). */
  resendAll: boolean;
  /**
   * The platform's address (capabilities.address), when this sync sends every part of it: tracked
   * as one identifier, `address`, and kept as sent in the snapshot's address_key.
   */
  address?: AddressRule;
  /** Consent signals sent with added members (platforms with memberConsent, models that map them). */
  signals?: ConsentSignal[];
  /**
   * The candidate carries this sync's source fingerprint (sfp_<index>, source.ts): a member whose
   * fingerprint equals its snapshot row's is unchanged without comparing normalized values (which a
   * candidate leaves NULL for such members), and the commit keeps fingerprints and kinds_mask.
   */
  sourceFingerprint?: boolean;
  /**
   * The candidate was built joined with this sync's snapshot (an incremental candidate: held_,
   * clean_, snap_fp_<index>, and rows for members gone from the model): the delta finds what
   * changed in it alone, without joining the snapshot again.
   */
  snapshotJoined?: boolean;
  /**
   * max_attempts: after this many failed attempts with the same data a member change is
   * dead-lettered (commit.ts) and left out of later deltas' parts and results. Undefined: no limit.
   */
  maxAttempts?: number;
}

/** Equality of two fingerprints where NULL (a removal has none) equals NULL; never NULL itself. */
export const sameFingerprint = (a: string, b: string) => `CASE WHEN ${a} IS NULL THEN ${b} IS NULL WHEN ${b} IS NULL THEN FALSE ELSE ${a} = ${b} END`;

type Identifier = { kind: IdentifierKind; rule: IdentifierRule };

/**
 * The delta's column of what the snapshot will keep for a kind: for a hashed kind that is the value
 * sent, held once (new_<k>); for a kind sent in plain text its hash (newh_<k>). Two copies of every
 * hash made the delta twice as wide: 6 GB of a 10M-member first sync spilled to disk (bench/).
 */
export const storedColumn = (i: Identifier) => (i.rule.encoding === 'plain' ? `newh_${i.kind}` : `new_${i.kind}`);

/** The delta's column of what a removal sends for a kind: for a hashed kind the snapshot's hash (oldh_<k>). */
export const removedColumn = (i: Identifier) => (i.rule.encoding === 'plain' ? `old_${i.kind}` : `oldh_${i.kind}`);

/** The address's parts with their places in its key, when the sync tracks an address. */
export const addressParts = (spec: SyncSqlSpec): AddressPart[] | undefined => (spec.address ? addressLayout(spec.address, spec.identifiers) : undefined);

function snapshotCte(d: SqlDialect, spec: SyncSqlSpec, snapshots: string): string {
  const cols = ['member_key', 'fingerprint', 'first_synced_at', ...spec.identifiers.map((i) => snapshotColumn(i.kind)), ...(spec.address ? ['address_key'] : [])];
  const where = spec.freshStart ? 'FALSE' : `sync_id = ${literal(d, spec.syncId)}`;
  return `snap AS (SELECT ${cols.join(', ')} FROM ${snapshots} WHERE ${where})`;
}

/** The fingerprint of a candidate row's normalized values (and consent signals) for the sync. */
function fingerprintSql(d: SqlDialect, spec: SyncSqlSpec): string {
  return d.hash64([
    ...spec.identifiers.flatMap((i) => [literal(d, `${i.kind}:${i.rule.normalizer}:${i.rule.encoding}`), normalizedRef(d, i)]),
    ...(spec.signals ?? []).flatMap((sig) => [literal(d, `consent:${sig}`), d.quoteIdent(signalColumn(sig))]),
  ]);
}

/** What the delta reads of a candidate row: its normalized values, signals and fingerprints. */
function candidateValues(d: SqlDialect, spec: SyncSqlSpec): string {
  const values = spec.identifiers.map((i) => `${normalizedRef(d, i)} AS n_${i.kind}`);
  // The rule is part of the fingerprint, so changing how a kind is normalized or encoded re-sends it.
  // A change of consent is a change: the member is sent again with its new signals.
  const signals = (spec.signals ?? []).map((sig) => `${d.quoteIdent(signalColumn(sig))} AS sig_${sig}`);
  const source = spec.sourceFingerprint ? `${d.quoteIdent(sourceFingerprintColumn(spec.index))} AS sfp, ${kindsMaskOf(d, spec)} AS kinds_mask` : `CAST(NULL AS ${d.types.bigint}) AS sfp, CAST(NULL AS ${d.types.bigint}) AS kinds_mask`;
  return `source_updated_at, ${[...values, ...signals].join(', ')}, ${fingerprintSql(d, spec)} AS fingerprint, ${source}`;
}

/** The columns candidateValues names, as read back from a CTE that selected them. */
function candidateColumns(spec: SyncSqlSpec, fingerprint = 'fingerprint'): string {
  return ['source_updated_at', ...spec.identifiers.map((i) => `n_${i.kind}`), ...(spec.signals ?? []).map((sig) => `sig_${sig}`), fingerprint, 'sfp', 'kinds_mask'].join(', ');
}

/** Members eligible for this sync (eligibleSql), with their values and fingerprints. */
function eligibleCte(d: SqlDialect, spec: SyncSqlSpec, name = 'cand'): string {
  return `${name} AS (
  SELECT member_key, ${candidateValues(d, spec)}
  FROM ${d.quoteIdent(scratch.candidate(spec.model))}
  WHERE ${eligibleSql(d, spec)}
)`;
}

/** The candidate was joined with this sync's snapshot and nothing makes the sync send everyone. */
const joined = (spec: SyncSqlSpec) => Boolean(spec.snapshotJoined) && !spec.freshStart && !spec.resendAll;

/**
 * What changed, read from an incremental candidate alone (candidate.ts joined it with the snapshot):
 * members whose source fingerprint matches the snapshot's (clean) are skipped unread; of the rest, an
 * eligible member the snapshot lacks is added, one whose normalized values differ changed, and one
 * the snapshot holds that is no longer eligible (or gone from the model) removed, in mirror mode.
 * The same scan reads the changed members' values, so `cand` is these rows, not a second scan of the
 * whole candidate (1.5 s of a 1%-churn run at 10M; bench/).
 */
function changedInCandidate(d: SqlDialect, spec: SyncSqlSpec): string {
  const q = d.quoteIdent;
  const removal = spec.mode === 'mirror' ? ' OR (held AND NOT eligible)' : '';
  return `changed AS (
  SELECT member_key, eligible, ${candidateColumns(spec, 'CASE WHEN eligible THEN fingerprint END AS fingerprint')} FROM (
    SELECT member_key, coalesce(${eligibleSql(d, spec)}, FALSE) AS eligible, ${candidateValues(d, spec)},
      ${q(heldColumn(spec.index))} AS held, ${q(snapshotFingerprintColumn(spec.index))} AS snap_fp
    FROM ${q(scratch.candidate(spec.model))}
    WHERE member_key IS NOT NULL AND NOT ${q(cleanColumn(spec.index))}
  ) x
  WHERE (eligible AND (NOT held OR fingerprint <> snap_fp))${removal}
),
cand AS (SELECT member_key, ${candidateColumns(spec)} FROM changed WHERE eligible)`;
}

/**
 * Member-level delta: add, remove, or change (fingerprint differs), with new values hashed only here.
 * Per kind: new_<k> is what would be sent and oldh_<k> what the snapshot keeps; for a kind sent in
 * plain text also newh_<k>, the hash of new_<k> the snapshot will keep, and old_<k>, what a removal
 * sends, recovered from the member's current source row when it still hashes the same (a hashed
 * kind keeps and removes the values themselves: storedColumn, removedColumn).
 * With an address, the same four columns for `address`, computed from its parts' columns:
 * new_address its key as sent (kept in the snapshot's address_key), newh_/oldh_address its
 * reference (compared to count who holds it), old_address the key a removal sends: the snapshot's
 * address_key, or, for a row written before address_key existed, the key rebuilt from the
 * snapshot's name hashes and the plain parts recovered from the source row (NULL if they are not).
 */
export function deltaSql(d: SqlDialect, spec: SyncSqlSpec, snapshots: string, retries?: string): string {
  const plain = spec.identifiers.filter((i) => i.rule.encoding === 'plain');
  const values = spec.identifiers.flatMap((i) => {
    const sent = encodeSql(d, i.rule, `c.n_${i.kind}`);
    const snap = `s.${snapshotColumn(i.kind)}`;
    if (i.rule.encoding !== 'plain') return [`${sent} AS new_${i.kind}`, `${snap} AS oldh_${i.kind}`];
    const current = encodeSql(d, i.rule, `f.${d.quoteIdent(normalizedColumn(i.kind, i.rule.normalizer))}`);
    const old = `CASE WHEN ${storedSql(d, i.rule, current)} = ${snap} THEN ${current} END`;
    return [`${sent} AS new_${i.kind}`, `${storedSql(d, i.rule, sent)} AS newh_${i.kind}`, `${snap} AS oldh_${i.kind}`, `${old} AS old_${i.kind}`];
  });
  const recover = plain.length > 0 ? `\nLEFT JOIN ${d.quoteIdent(scratch.candidate(spec.model))} f ON f.member_key = s.member_key` : '';
  const mirror = spec.mode === 'mirror';
  // Dead letters: retries that reached max_attempts with the data the member still has. A new
  // audience (freshStart) and --full-refresh (resendAll) try every member again.
  const deadLetters = retries !== undefined && spec.maxAttempts !== undefined && !spec.freshStart && !spec.resendAll;
  const deadCte = deadLetters
    ? `,\ndead AS (SELECT member_key, fingerprint FROM ${retries} WHERE sync_id = ${literal(d, spec.syncId)} AND attempts >= ${literal(d, spec.maxAttempts!)})`
    : '';
  const deadJoin = deadLetters ? '\nLEFT JOIN dead dd ON dd.member_key = coalesce(c.member_key, s.member_key)' : '';
  const deadFlag = deadLetters ? `(dd.member_key IS NOT NULL AND ${sameFingerprint('dd.fingerprint', 'k.fingerprint')})` : 'FALSE';
  // The join that finds what changed carries keys and fingerprints only; the wide columns (new values,
  // the snapshot's hashes) are fetched for the changed members alone: joining the full rows spilled
  // gigabytes of hashes at 10M members (bench/). Each CTE over a whole table is read once, so none is
  // materialized whole; a joined candidate's `changed` is read twice, but holds the changed members only.
  // An unchanged source row is an unchanged member: its normalized values were not even computed.
  const differs = spec.sourceFingerprint ? `(NOT coalesce(c.sfp = s.source_fingerprint, FALSE) AND c.fingerprint <> s.fingerprint)` : 'c.fingerprint <> s.fingerprint';
  const changedCtes = joined(spec)
    ? changedInCandidate(d, spec)
    : `${eligibleCte(d, spec, 'cand_keys')},
snap_keys AS (SELECT member_key, fingerprint${spec.sourceFingerprint ? ', source_fingerprint' : ''} FROM ${snapshots} WHERE ${spec.freshStart ? 'FALSE' : `sync_id = ${literal(d, spec.syncId)}`}),
changed AS (
  SELECT coalesce(c.member_key, s.member_key) AS member_key, c.fingerprint
  FROM cand_keys c FULL OUTER JOIN snap_keys s ON s.member_key = c.member_key
  WHERE (s.member_key IS NULL OR ${mirror ? 'c.member_key IS NULL OR ' : ''}${differs}${spec.resendAll ? ' OR TRUE' : ''})${mirror ? '' : '\n    AND c.member_key IS NOT NULL'}
)`;
  const parts = addressParts(spec);
  const members = `SELECT k.member_key,
  CASE WHEN s.member_key IS NULL THEN 'add' WHEN c.member_key IS NULL THEN 'remove' ELSE 'change' END AS op,
  k.fingerprint, c.source_updated_at, s.first_synced_at, c.sfp AS source_fingerprint, c.kinds_mask,
  ${[...values, ...(parts ? ['s.address_key AS oldk_address'] : []), ...(spec.signals ?? []).map((sig) => `c.sig_${sig} AS new_sig_${sig}`)].join(',\n  ')},
  ${deadFlag} AS dead_lettered
FROM changed k
LEFT JOIN cand c ON c.member_key = k.member_key
LEFT JOIN snap s ON s.member_key = k.member_key${recover}${deadJoin}`;
  // The address's columns, from its parts' columns (a wrapping SELECT, so no expression is repeated).
  const select = parts
    ? `SELECT m.*,
  ${joinParts(d, parts.map((p) => `m.new_${p.kind}`))} AS new_address,
  ${joinParts(d, parts.map((p) => `m.${storedColumn(p)}`))} AS newh_address,
  ${joinParts(d, parts.map((p) => `m.oldh_${p.kind}`))} AS oldh_address,
  coalesce(m.oldk_address, ${joinParts(d, parts.map((p) => `m.${removedColumn(p)}`))}) AS old_address
FROM (
${members}
) m`
    : members;
  return d.createTempTableAs(
    scratch.delta(spec.index),
    `WITH ${snapshotCte(d, spec, snapshots)},
${joined(spec) ? '' : `${eligibleCte(d, spec)},\n`}${changedCtes}${deadCte}
${select}`,
  );
}

/** Members per op; dead-lettered ones, which send nothing, under op 'dead'. */
export function deltaCountsSql(d: SqlDialect, spec: SyncSqlSpec): string {
  const op = `CASE WHEN dead_lettered THEN 'dead' ELSE op END`;
  return `SELECT ${op} AS op, count(*) AS n FROM ${d.quoteIdent(scratch.delta(spec.index))} GROUP BY ${op}`;
}

export function audienceSizeSql(d: SqlDialect, spec: SyncSqlSpec, snapshots: string): string {
  if (spec.freshStart) return 'SELECT 0 AS n';
  return `SELECT count(*) AS n FROM ${snapshots} WHERE sync_id = ${literal(d, spec.syncId)}`;
}
