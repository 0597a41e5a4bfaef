// Crash safety (architecture.md invariant 4) when a run dies between sending and committing.
//
// The snapshot says what the audience holds, and the delta trusts it: an identifier another member
// holds is not sent again, and one no member holds any more is removed only if the snapshot has it.
// A run that sent requests and then died (SIGKILL, a crash, an error before its commit) leaves the
// audience in a state the snapshot does not describe: it may have removed a household email the
// snapshot still counts as held, or added members the snapshot never heard of. Re-sending the same
// delta is not enough, because the source may have changed in between. So:
//   - a run marks the moment it starts sending (audsync_runs.requests goes from NULL to 0);
//   - the next run of the sync closes every run left 'running' as failed, 'interrupted: ...';
//   - while an interrupted run that had started sending is not followed by a successful full
//     refresh, every run of that (mirror) sync is one: where the platform swaps a whole list in at
//     once (Meta's usersreplace session), the audience becomes exactly the segment again, whatever
//     the interrupted run did, and the snapshot exactly what was sent.
// Elsewhere (Google: its full refresh empties the list with remove-all first, which a recovery
// should not do to a live audience) every member is re-sent: that restores whatever the killed run
// removed, but an identifier it added for a member who left before the next run stays until a
// --full-refresh. add_only syncs never remove, so they need no recovery.
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import type { StateTables } from '../warehouse/sql/names.js';

/** The error_message prefix of a run that may have sent requests it never committed. */
export const INTERRUPTED = 'interrupted:';

/**
 * Runs of this sync still marked 'running' when a run takes its lock were ended by a kill or a
 * crash: they are closed as failed, so the audit trail shows every interrupted run.
 */
export function closeInterruptedRunsSql(d: SqlDialect, t: StateTables, syncId: string, runId: string, nowIso: string): string {
  const message = `${INTERRUPTED} the run ended before finishing (process killed or crashed); nothing it had not committed was recorded as synced, and the next run re-sends what is needed`;
  return `UPDATE ${t.runs} SET status = 'failed', finished_at = ${d.timestamp(nowIso)}, error_message = ${literal(d, message)}
WHERE sync_id = ${literal(d, syncId)} AND status = 'running' AND run_id <> ${literal(d, runId)}`;
}

/** Set just before the first request: from here on, dying before the commit leaves uncertainty. */
export function markSendingSql(d: SqlDialect, t: StateTables, runId: string): string {
  return `UPDATE ${t.runs} SET requests = 0 WHERE run_id = ${literal(d, runId)}`;
}

/**
 * How many interrupted runs of the sync had started sending since its last successful full refresh.
 * Runs still marked 'running' count too: `plan` does not close them (a run does, under the lock,
 * before asking), so plan sees the recovery the next run will do.
 */
export function uncertainRunsSql(d: SqlDialect, t: StateTables, syncId: string): string {
  const sync = literal(d, syncId);
  return `SELECT count(*) AS n FROM ${t.runs} r
WHERE r.sync_id = ${sync} AND r.requests IS NOT NULL AND (r.status = 'running' OR r.error_message LIKE ${literal(d, `${INTERRUPTED}%`)})
  AND NOT EXISTS (
    SELECT 1 FROM ${t.runs} f
    WHERE f.sync_id = ${sync} AND f.full_refresh AND f.status = 'success' AND f.started_at > r.started_at
  )`;
}

/** The message of a run whose error struck after it started sending and before its commit. */
export function interruptedMessage(error: string): string {
  return `${INTERRUPTED} ${error} (after requests were sent and before the commit: the next run re-sends every member to make the audience exact)`;
}
