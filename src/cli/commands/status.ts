import type { Command } from 'commander';
import { refreshPendingReports } from '../../runner/reports.js';
import { openTargetPlatforms } from '../../runner/target.js';
import { loadWarehouse } from '../../warehouse/registry.js';
import { sqlDialect } from '../../warehouse/sql/dialect.js';
import { stateTables } from '../../warehouse/sql/names.js';
import { loadManifest, loggerFor, type GlobalOptions } from '../options.js';

interface RunRow {
  sync_id: string;
  status: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  members: number | null;
  added: number | null;
  removed: number | null;
  changed: number | null;
  failed: number | null;
  audience_id: string | null;
  error_message: string | null;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('the latest run of each sync, from the audit tables')
    .option('--json', 'print one JSON document on stdout')
    .option('--refresh', "ask the platforms again about uploads still in progress (Google requests, jobs) and record their answers")
    .action(async (_flags, c: Command) => {
      const o = c.optsWithGlobals<GlobalOptions & { refresh?: boolean }>();
      const logger = loggerFor(o);
      const manifest = await loadManifest(o);
      const { type: _t, ...config } = manifest.project.target.warehouse;
      const definition = await loadWarehouse(manifest.project.target.warehouse.type);
      const wh = await definition.connect(config, { projectDir: manifest.project.projectDir });
      let rows: RunRow[] = [];
      let reports: ReportRow[] = [];
      try {
        const dialect = sqlDialect(wh.capabilities.dialect);
        const t = stateTables(dialect, manifest.project.stateSchema, wh.catalog);
        if (o.refresh) {
          const target = await openTargetPlatforms(manifest.project, logger);
          try {
            await refreshPendingReports({ warehouse: wh, dialect, tables: t, platforms: target.platforms, logger }, manifest.syncs, manifest.destinations);
          } finally {
            await target.close();
          }
        }
        rows = await wh
          .query<RunRow>(
            `SELECT sync_id, status, started_at, finished_at, members, added, removed, changed, failed, audience_id, error_message
FROM (SELECT r.*, row_number() OVER (PARTITION BY sync_id ORDER BY started_at DESC) AS rn FROM ${t.runs} r) latest
WHERE rn = 1 ORDER BY sync_id`,
          )
          .catch(() => []); // no state schema yet: no runs
        reports = await wh
          .query<ReportRow>(
            `SELECT sync_id, kind, reference, status, details, recorded_at
FROM (SELECT r.*, row_number() OVER (PARTITION BY sync_id ORDER BY recorded_at DESC) AS rn FROM ${t.platformReports} r) latest
WHERE rn = 1`,
          )
          .catch(() => []); // older state schema: no reports yet
      } finally {
        await wh.close();
      }
      const bySync = new Map(rows.map((r) => [r.sync_id, r]));
      const reportBySync = new Map(reports.map((r) => [r.sync_id, { ...r, details: parseDetails(r.details) }]));
      const syncs = manifest.syncs.map((s) => ({ sync: s.id, last_run: bySync.get(s.id) ?? null, last_report: reportBySync.get(s.id) ?? null }));
      if (o.json) {
        process.stdout.write(JSON.stringify({ target: manifest.project.target.name, syncs }) + '\n');
        return;
      }
      const lines = syncs.map(({ sync, last_run: r, last_report: report }) =>
        r
          ? `${sync}  ${r.status}  ${iso(r.finished_at ?? r.started_at)}  members ${r.members ?? '-'}  +${r.added ?? 0} -${r.removed ?? 0} ~${r.changed ?? 0}  failed ${r.failed ?? 0}` +
            (r.error_message ? `\n    ${r.error_message}` : '') +
            (report ? `\n    platform: ${report.kind} ${report.status} ${JSON.stringify(report.details)}` : '')
          : `${sync}  never run`,
      );
      process.stdout.write((lines.length ? lines.join('\n') : 'no syncs in this project') + '\n');
    });
}

const iso = (v: Date | string) => (v instanceof Date ? v.toISOString() : String(v));

interface ReportRow {
  sync_id: string;
  kind: string;
  reference: string;
  status: string;
  details: string | null;
  recorded_at: Date | string;
}

function parseDetails(text: string | null): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}
