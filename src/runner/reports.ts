// Platform reports that were still in progress when recorded (a Google request PROCESSING, a job
// RUNNING) are asked again: at the start of every run, and by `audsync status --refresh`. Each answer
// is appended as a newer row, so audsync_platform_reports keeps the history.
import type { Logger } from 'pino';
import type { DestinationDef, SyncDef } from '../core/manifest.js';
import type { PlatformReport } from '../platforms/platform.js';
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import { platformReportSql } from '../warehouse/sql/audit.js';
import type { StateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { PlatformPool } from './platforms.js';

/** Statuses that may still change; anything else is final. */
export const PENDING_STATUSES = ['PROCESSING', 'PENDING', 'RUNNING'];

interface ReportRow {
  run_id: string;
  sync_id: string;
  platform: string;
  kind: string;
  reference: string;
  status: string;
  details: string | null;
}

export interface RefreshContext {
  warehouse: Warehouse;
  dialect: SqlDialect;
  tables: StateTables;
  platforms: PlatformPool;
  logger: Logger;
}

/** Refreshes the pending reports of these syncs; returns the reports as they are now. */
export async function refreshPendingReports(ctx: RefreshContext, syncs: SyncDef[], destinations: DestinationDef[]): Promise<PlatformReport[]> {
  const { warehouse: wh, dialect: d, tables: t } = ctx;
  if (syncs.length === 0) return [];
  const ids = syncs.map((s) => literal(d, s.id)).join(', ');
  const pending = await wh
    .query<ReportRow>(
      `SELECT run_id, sync_id, platform, kind, reference, status, details
FROM (SELECT r.*, row_number() OVER (PARTITION BY sync_id, kind, reference ORDER BY recorded_at DESC) AS rn
      FROM ${t.platformReports} r WHERE sync_id IN (${ids})) latest
WHERE rn = 1 AND status IN (${PENDING_STATUSES.map((s) => literal(d, s)).join(', ')})`,
    )
    .catch(() => [] as ReportRow[]); // a state schema from before reports existed
  const refreshed: PlatformReport[] = [];
  for (const row of pending) {
    const sync = syncs.find((s) => s.id === row.sync_id);
    const destination = destinations.find((x) => x.name === sync?.destination);
    if (!destination) continue; // the sync was removed from the project
    const client = await ctx.platforms.get(destination);
    if (!client.platform.refreshReport) continue;
    const before: PlatformReport = { kind: row.kind, reference: row.reference, status: row.status, details: parse(row.details) };
    try {
      const now = await client.platform.refreshReport(before);
      await wh.execute(platformReportSql(d, t, row.run_id, row.sync_id, row.platform, now, new Date().toISOString()));
      refreshed.push(now);
      ctx.logger.info({ sync: row.sync_id, kind: now.kind, reference: now.reference, status: now.status }, 'platform report refreshed');
    } catch (error) {
      ctx.logger.warn({ sync: row.sync_id, reference: row.reference, error: error instanceof Error ? error.message : String(error) }, 'platform report not refreshed');
    }
  }
  return refreshed;
}

function parse(text: string | null): Record<string, unknown> {
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
