// audsync_runs rows: inserted as 'running' when a sync starts (so a crash leaves a trace), finished
// in the commit transaction.
import { literal, type SqlDialect } from './dialect.js';
import type { StateTables } from './names.js';

export interface RunRow {
  run_id: string;
  invocation_id: string;
  sync_id: string;
  model: string;
  destination: string;
  mode: string;
  target: string;
  started_at: string; // ISO
  model_sql_sha256: string;
  audsync_version: string;
  full_refresh: boolean;
}

export function insertRunSql(d: SqlDialect, t: StateTables, r: RunRow): string {
  return `INSERT INTO ${t.runs} (run_id, invocation_id, sync_id, model, destination, mode, target, status, started_at, model_sql_sha256, audsync_version, full_refresh)
VALUES (${[r.run_id, r.invocation_id, r.sync_id, r.model, r.destination, r.mode, r.target, 'running'].map((v) => literal(d, v)).join(', ')}, ${d.timestamp(r.started_at)}, ${literal(d, r.model_sql_sha256)}, ${literal(d, r.audsync_version)}, ${literal(d, r.full_refresh)})`;
}

export interface RunFinish {
  status: string;
  finished_at: string;
  audience_id: string | null;
  members: number;
  added: number;
  removed: number;
  changed: number;
  failed: number;
  invalid: number;
  held_out: number;
  no_consent: number;
  rows_sent: number;
  requests: number;
  error_message: string | null;
}

export function finishRunSql(d: SqlDialect, t: StateTables, runId: string, f: RunFinish): string {
  const numbers = (['members', 'added', 'removed', 'changed', 'failed', 'invalid', 'held_out', 'no_consent', 'rows_sent', 'requests'] as const)
    .map((k) => `${k} = ${literal(d, f[k])}`)
    .join(', ');
  return `UPDATE ${t.runs} SET status = ${literal(d, f.status)}, finished_at = ${d.timestamp(f.finished_at)}, audience_id = ${literal(d, f.audience_id)},
  ${numbers}, error_message = ${literal(d, f.error_message)}
WHERE run_id = ${literal(d, runId)}`;
}

export function invalidIdentifiersSql(d: SqlDialect, t: StateTables, runId: string, syncId: string, byKind: Record<string, { present: number; invalid: number }>): string | null {
  const rows = Object.entries(byKind).map(([kind, c]) => `(${[runId, syncId, kind].map((v) => literal(d, v)).join(', ')}, ${c.present}, ${c.invalid})`);
  if (rows.length === 0) return null;
  return `INSERT INTO ${t.invalidIdentifiers} (run_id, sync_id, identifier, present, invalid) VALUES ${rows.join(', ')}`;
}

export function platformReportSql(
  d: SqlDialect,
  t: StateTables,
  runId: string,
  syncId: string,
  platform: string,
  r: { kind: string; reference: string; status: string; details: Record<string, unknown> },
  nowIso: string,
): string {
  const values = [runId, syncId, platform, r.kind, r.reference, r.status, JSON.stringify(r.details)].map((v) => literal(d, v)).join(', ');
  return `INSERT INTO ${t.platformReports} (run_id, sync_id, platform, kind, reference, status, details, recorded_at)
VALUES (${values}, ${d.timestamp(nowIso)})`;
}
