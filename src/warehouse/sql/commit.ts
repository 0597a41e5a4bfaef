// The commit: applied in one transaction after delivery. The snapshot advances only for members
// whose changes the platform accepted; every member change of the run lands in audsync_changes.
// Dead letters: `attempt` counts a member's consecutive failed runs with the same data (a data
// change starts again at 1); the failure that reaches max_attempts is recorded as 'dead', and its
// audsync_retries row (attempts >= max_attempts, fingerprint) keeps it out of later deltas until
// the member's data changes (delta.ts). A run that stopped (credentials refused, a platform failing
// after every retry) counts the attempt but dead-letters nothing: that failure is not the member's.
// With an address (Google), the snapshot also keeps the address as sent (address_key), and older rows
// without one get theirs where the source proves it (address.ts, docs/identity.md).
import { joinParts } from './address.js';
import { literal, type SqlDialect } from './dialect.js';
import { addressParts, sameFingerprint, storedColumn, type SyncSqlSpec } from './delta.js';
import { eligibleSql, kindsMaskOf } from './members.js';
import { heldColumn, NORMALIZED, normalizedColumn, scratch, snapshotColumn, sourceFingerprintColumn, type StateTables } from './names.js';
import { encodeSql, storedSql } from './normalize.js';

export interface CommitContext {
  runId: string;
  nowIso: string;
  destination: string;
  platform: string;
  audienceId: string;
  /** The sync stopped before sending everything: its failures never dead-letter a member. */
  stopped?: boolean;
  /**
   * The snapshot held no member of this sync when the run began (a first sync): no row of it can
   * need its source fingerprint refreshed, so that UPDATE is left out. At 10M members it took 1.9 s
   * of a first sync, most of it an anti-join of the candidate with all 9M delta members (bench/).
   */
  snapshotWasEmpty?: boolean;
  /**
   * The sync had no audsync_retries row when the commit began: the cleanups of old rows are left
   * out. Their anti-join with every delta member was a first sync's peak of memory (bench/).
   */
  noRetries?: boolean;
  /**
   * No member of this sync failed this run (its outcomes hold no 'failed' row): nothing goes into
   * audsync_retries, and the insert, which joins the outcomes with the audsync_changes rows just
   * written, is left out. At a 10M first sync that join was the run's peak of memory (2.1 GB; bench/).
   */
  noFailures?: boolean;
}

/** This run's attempt for a result row r (retries rt): one more than its failures with the same data. */
const attemptSql = `CASE WHEN rt.member_key IS NOT NULL AND ${sameFingerprint('rt.fingerprint', 'r.fingerprint')} THEN rt.attempts + 1 ELSE 1 END`;

/** Whether a result row's failure this run reaches max_attempts (SQL boolean). */
function reachesLimitSql(d: SqlDialect, spec: SyncSqlSpec, stopped: boolean | undefined): string {
  if (spec.maxAttempts === undefined || stopped) return 'FALSE';
  return `(r.status = 'failed' AND ${attemptSql} >= ${literal(d, spec.maxAttempts)})`;
}

/**
 * Member changes this commit will dead-letter (failed now for the max_attempts-th time), counted
 * before the commit, so the run's status and message can say so. Same joins as the commit.
 */
export function newDeadLettersSql(d: SqlDialect, spec: SyncSqlSpec, t: StateTables, stopped?: boolean): string {
  const sync = literal(d, spec.syncId);
  return `SELECT count(*) AS n
FROM ${d.quoteIdent(scratch.result(spec.index))} r
LEFT JOIN ${t.retries} rt ON rt.sync_id = ${sync} AND rt.member_key = r.member_key
WHERE ${reachesLimitSql(d, spec, stopped)}`;
}

/** Rows the sync has in audsync_retries: none, and the commit leaves out their cleanup (noRetries). */
export function retriesCountSql(d: SqlDialect, spec: SyncSqlSpec, t: StateTables): string {
  return `SELECT count(*) AS n FROM ${t.retries} WHERE sync_id = ${literal(d, spec.syncId)}`;
}

export function commitSql(d: SqlDialect, spec: SyncSqlSpec, t: StateTables, c: CommitContext): string[] {
  const sync = literal(d, spec.syncId);
  const now = d.timestamp(c.nowIso);
  const delta = d.quoteIdent(scratch.delta(spec.index));
  const result = d.quoteIdent(scratch.result(spec.index));
  const kinds = spec.identifiers.map((i) => i.kind);
  const statements: string[] = [];

  // Changes first: `attempt` reads the retry counts as they were before this run.
  const dead = reachesLimitSql(d, spec, c.stopped);
  const status = dead === 'FALSE' ? 'r.status' : `CASE WHEN ${dead} THEN 'dead' ELSE r.status END`;
  const message =
    dead === 'FALSE'
      ? 'r.error_message'
      : `CASE WHEN ${dead} THEN ${literal(d, `dead-lettered after ${spec.maxAttempts} failed attempts (max_attempts); not retried until the member's data changes: `)} || coalesce(r.error_message, r.error_code, 'not sent') ELSE r.error_message END`;
  statements.push(`INSERT INTO ${t.changes} (run_id, sync_id, member_key, op, status, attempt, error_code, error_message, source_updated_at, sent_at)
SELECT ${literal(d, c.runId)}, ${sync}, r.member_key, r.op, ${status}, ${attemptSql}, r.error_code, ${message},
  r.source_updated_at, CASE WHEN r.status = 'sent' THEN ${now} END
FROM ${result} r
LEFT JOIN ${t.retries} rt ON rt.sync_id = ${sync} AND rt.member_key = r.member_key`);

  if (!c.noRetries) {
    statements.push(`DELETE FROM ${t.retries} WHERE sync_id = ${sync} AND member_key IN (SELECT member_key FROM ${result})`);
    // Members with nothing left to do (their data matches the snapshot again, or they left an
    // add_only sync) start over: an old count must not dead-letter a later change at its first failure.
    statements.push(`DELETE FROM ${t.retries} WHERE sync_id = ${sync} AND member_key NOT IN (SELECT member_key FROM ${delta})`);
  }
  // A stopped run keeps the count below max_attempts: only a member's own failure dead-letters it.
  const attempts = c.stopped && spec.maxAttempts !== undefined ? `least(ch.attempt, ${literal(d, Math.max(spec.maxAttempts - 1, 0))})` : 'ch.attempt';
  if (!c.noFailures) {
    statements.push(`INSERT INTO ${t.retries} (sync_id, member_key, attempts, fingerprint, last_error_code, last_error_message, last_attempt_at)
SELECT ${sync}, r.member_key, ${attempts}, r.fingerprint, r.error_code, r.error_message, ${now}
FROM ${result} r
JOIN ${t.changes} ch ON ch.run_id = ${literal(d, c.runId)} AND ch.sync_id = ${sync} AND ch.member_key = r.member_key
WHERE r.status = 'failed'`);
  }

  if (spec.freshStart) statements.push(`DELETE FROM ${t.snapshots} WHERE sync_id = ${sync}`);
  statements.push(`DELETE FROM ${t.snapshots} WHERE sync_id = ${sync}
  AND member_key IN (SELECT member_key FROM ${result} WHERE action IN ('upsert', 'delete'))`);
  const address = addressParts(spec);
  const addressKey = address ? ['address_key'] : [];
  // The delta's rows of the members to upsert, picked by their keys: a semi-join hashes only the
  // result's keys, where a join could hash the delta's wide rows (a first sync of 10M: 9M rows of
  // hashes, and the process's peak memory, 2.0 GB; bench/).
  statements.push(`INSERT INTO ${t.snapshots} (sync_id, member_key, ${[...kinds.map(snapshotColumn), ...addressKey].join(', ')}, fingerprint, source_fingerprint, kinds_mask, first_synced_at, last_synced_at)
SELECT ${sync}, dl.member_key, ${[...spec.identifiers.map((i) => `dl.${storedColumn(i)}`), ...(address ? ['dl.new_address'] : [])].join(', ')}, dl.fingerprint, dl.source_fingerprint, dl.kinds_mask, coalesce(dl.first_synced_at, ${now}), ${now}
FROM ${delta} dl
WHERE dl.member_key IN (SELECT member_key FROM ${result} WHERE action = 'upsert')`);
  if (spec.sourceFingerprint && !spec.freshStart && !c.snapshotWasEmpty) {
    // Members normalized again whose normalized values came out the same (a source value that
    // differs only in case or spacing, a row from before source fingerprints): nothing was sent, but
    // the snapshot learns the new source fingerprint, or they would be normalized on every run.
    const cand = d.quoteIdent(scratch.candidate(spec.model));
    // Only rows the snapshot holds can be refreshed; a joined candidate knows which (none, mostly).
    const held = spec.snapshotJoined ? ` AND c.${d.quoteIdent(heldColumn(spec.index))}` : '';
    statements.push(`UPDATE ${t.snapshots} SET source_fingerprint = u.u_sfp, kinds_mask = u.u_mask
FROM (
  SELECT c.member_key AS u_member, c.${d.quoteIdent(sourceFingerprintColumn(spec.index))} AS u_sfp, ${kindsMaskOf(d, spec, 'c')} AS u_mask
  FROM ${cand} c
  WHERE c.${NORMALIZED}${held} AND ${eligibleSql(d, spec, 'c')} AND c.member_key NOT IN (SELECT member_key FROM ${delta})
) u
WHERE sync_id = ${sync} AND member_key = u.u_member AND (source_fingerprint IS NULL OR source_fingerprint <> u.u_sfp)`);
  }
  if (address) {
    // Snapshot rows written before address_key existed (migration 4) keep only hashes of the plain
    // parts. Where the member's current source row hashes to exactly what the row says was sent, its
    // key is known for sure: it is filled in, so a later removal can send the address even once the
    // source row is gone. Rows this commit wrote have their key already (NULL only when incomplete).
    const cand = d.quoteIdent(scratch.candidate(spec.model));
    const sent = (part: (typeof address)[number]) => encodeSql(d, part.rule, `f.${d.quoteIdent(normalizedColumn(part.kind, part.rule.normalizer))}`);
    statements.push(`UPDATE ${t.snapshots} SET address_key = b.b_key
FROM (
  SELECT s.member_key AS b_member, ${joinParts(d, address.map(sent))} AS b_key
  FROM ${t.snapshots} s JOIN ${cand} f ON f.member_key = s.member_key
  WHERE s.sync_id = ${sync} AND s.address_key IS NULL AND ${address.map((p) => `s.${snapshotColumn(p.kind)} IS NOT NULL`).join(' AND ')}
    AND ${address.map((p) => `s.${snapshotColumn(p.kind)} = ${storedSql(d, p.rule, sent(p))}`).join('\n    AND ')}
) b
WHERE sync_id = ${sync} AND member_key = b.b_member AND address_key IS NULL`);
  }

  statements.push(`DELETE FROM ${t.syncState} WHERE sync_id = ${sync}`);
  statements.push(`INSERT INTO ${t.syncState} (sync_id, destination, platform, audience_id, updated_at)
VALUES (${sync}, ${literal(d, c.destination)}, ${literal(d, c.platform)}, ${literal(d, c.audienceId)}, ${now})`);
  return statements;
}
