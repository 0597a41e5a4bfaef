// The commit: applied in one transaction after delivery. The snapshot advances only for members
// whose changes the platform accepted; every member change of the run lands in audsync_changes.
import { literal, type SqlDialect } from './dialect.js';
import type { SyncSqlSpec } from './delta.js';
import { scratch, snapshotColumn, type StateTables } from './names.js';

export interface CommitContext {
  runId: string;
  nowIso: string;
  destination: string;
  platform: string;
  audienceId: string;
}

export function commitSql(d: SqlDialect, spec: SyncSqlSpec, t: StateTables, c: CommitContext): string[] {
  const sync = literal(spec.syncId);
  const now = d.timestamp(c.nowIso);
  const delta = d.quoteIdent(scratch.delta(spec.index));
  const result = d.quoteIdent(scratch.result(spec.index));
  const kinds = spec.identifiers.map((i) => i.kind);
  const statements: string[] = [];

  // Changes first: `attempt` reads the retry counts as they were before this run.
  statements.push(`INSERT INTO ${t.changes} (run_id, sync_id, member_key, op, status, attempt, error_code, error_message, source_updated_at, sent_at)
SELECT ${literal(c.runId)}, ${sync}, r.member_key, r.op, r.status, coalesce(rt.attempts, 0) + 1, r.error_code, r.error_message,
  dl.source_updated_at, CASE WHEN r.status = 'sent' THEN ${now} END
FROM ${result} r
JOIN ${delta} dl ON dl.member_key = r.member_key
LEFT JOIN ${t.retries} rt ON rt.sync_id = ${sync} AND rt.member_key = r.member_key`);

  statements.push(`DELETE FROM ${t.retries} WHERE sync_id = ${sync} AND member_key IN (SELECT member_key FROM ${result})`);
  statements.push(`INSERT INTO ${t.retries} (sync_id, member_key, attempts, fingerprint, last_error_code, last_error_message, last_attempt_at)
SELECT ${sync}, r.member_key, ch.attempt, dl.fingerprint, r.error_code, r.error_message, ${now}
FROM ${result} r
JOIN ${delta} dl ON dl.member_key = r.member_key
JOIN ${t.changes} ch ON ch.run_id = ${literal(c.runId)} AND ch.sync_id = ${sync} AND ch.member_key = r.member_key
WHERE r.status = 'failed'`);

  if (spec.freshStart) statements.push(`DELETE FROM ${t.snapshots} WHERE sync_id = ${sync}`);
  statements.push(`DELETE FROM ${t.snapshots} WHERE sync_id = ${sync}
  AND member_key IN (SELECT member_key FROM ${result} WHERE action IN ('upsert', 'delete'))`);
  statements.push(`INSERT INTO ${t.snapshots} (sync_id, member_key, ${kinds.map(snapshotColumn).join(', ')}, fingerprint, first_synced_at, last_synced_at)
SELECT ${sync}, dl.member_key, ${kinds.map((k) => `dl.newh_${k}`).join(', ')}, dl.fingerprint, coalesce(dl.first_synced_at, ${now}), ${now}
FROM ${result} r JOIN ${delta} dl ON dl.member_key = r.member_key
WHERE r.action = 'upsert'`);

  statements.push(`DELETE FROM ${t.syncState} WHERE sync_id = ${sync}`);
  statements.push(`INSERT INTO ${t.syncState} (sync_id, destination, platform, audience_id, updated_at)
VALUES (${sync}, ${literal(c.destination)}, ${literal(c.platform)}, ${literal(c.audienceId)}, ${now})`);
  return statements;
}
