// One `audsync run` or `audsync plan`: connect, migrate, materialize each model once, then each sync.
// Plan runs inside a transaction that is rolled back, so it leaves the warehouse as it found it.
import { randomUUID } from 'node:crypto';
import { LockedError } from '../core/errors.js';
import type { Manifest } from '../core/manifest.js';
import { overallStatus, type InvocationResult, type SyncResult } from '../core/result.js';
import { selectSyncs } from '../config/select.js';
import { loadWarehouse } from '../warehouse/registry.js';
import { sqlDialect } from '../warehouse/sql/dialect.js';
import { stateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { RunContext, RunOptions } from './context.js';
import { materializeModel } from './materialize.js';
import { identifiersByModel, prepareSyncs, signalsByModel } from './prepare.js';
import { refreshPendingReports } from './reports.js';
import { migrate } from './state.js';
import { openTargetPlatforms } from './target.js';
import { runSync } from './sync.js';

class PlanRollback extends Error {}

export async function runInvocation(manifest: Manifest, options: RunOptions): Promise<InvocationResult> {
  const invocationId = randomUUID();
  const logger = options.logger.child({ invocation_id: invocationId });
  const selected = selectSyncs(manifest, options.select);
  const prepared = await prepareSyncs(manifest, selected);
  const { project } = manifest;

  const target = await openTargetPlatforms(project, logger);
  const definition = await loadWarehouse(project.target.warehouse.type);
  const { type: _type, ...warehouseConfig } = project.target.warehouse;
  const warehouse = await connectWaiting(() => definition.connect(warehouseConfig, { projectDir: project.projectDir }), options, logger).catch(
    async (error: unknown) => {
      await target.close();
      throw error;
    },
  );
  const dialect = sqlDialect(warehouse.capabilities.dialect);
  const ctx: RunContext = {
    manifest,
    options,
    invocationId,
    warehouse,
    dialect,
    tables: stateTables(dialect, project.stateSchema, warehouse.catalog),
    platforms: target.platforms,
    logger,
    partialCandidates: new Map(),
    memberCounts: new Map(),
  };

  try {
    let syncs: SyncResult[] = [];
    const work = async (wh: Warehouse) => {
      syncs = await runAll({ ...ctx, warehouse: wh }, prepared);
      if (options.command === 'plan') throw new PlanRollback();
    };
    if (options.command === 'plan' && warehouse.capabilities.transactionalDdl) {
      await warehouse.transaction(work).catch((error) => {
        if (!(error instanceof PlanRollback)) throw error;
      });
    } else {
      await work(warehouse).catch((error) => {
        if (!(error instanceof PlanRollback)) throw error;
      });
    }
    return {
      invocation_id: invocationId,
      command: options.command,
      target: project.target.name,
      status: overallStatus(syncs, options.command),
      syncs,
    };
  } finally {
    await target.close();
    await warehouse.close();
  }
}

/**
 * Connects; with --wait, an engine that refuses because another process holds the database (a
 * DuckDB file is one writer's at a time) is tried again until the wait is over.
 */
async function connectWaiting(connect: () => Promise<Warehouse>, options: RunOptions, logger: RunContext['logger']): Promise<Warehouse> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (let told = false; ; told = true) {
    try {
      return await connect();
    } catch (error) {
      const left = deadline - Date.now();
      if (!(error instanceof LockedError) || left <= 0) throw error;
      if (!told) logger.info({ wait_ms: options.waitMs }, `${error.message}; waiting for it (--wait)`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, 500)));
    }
  }
}

async function runAll(ctx: RunContext, prepared: Awaited<ReturnType<typeof prepareSyncs>>): Promise<SyncResult[]> {
  await migrate(ctx.warehouse, ctx.dialect, ctx.manifest.project.stateSchema);
  if (ctx.options.command === 'run') {
    await refreshPendingReports(ctx, prepared.map((p) => p.sync), ctx.manifest.destinations);
  }
  const nowIso = new Date().toISOString();
  const modelErrors = new Map<string, unknown>();
  const modelBytes = new Map<string, number | undefined>();
  const signals = signalsByModel(prepared);
  const ready = prepared.filter((p) => !p.problem);
  // Every candidate carries its syncs' source fingerprints (materialize.ts); their deltas read them.
  for (const p of ready) p.spec.sourceFingerprint = true;
  for (const [model, identifiers] of identifiersByModel(ready)) {
    const def = ctx.manifest.models.find((m) => m.name === model)!;
    const specs = ready.filter((p) => p.model.name === model).map((p) => p.spec);
    try {
      const started = performance.now();
      const counts = await materializeModel(ctx, def, identifiers, nowIso, signals.get(model), specs);
      modelBytes.set(model, counts.bytesEstimated);
      ctx.logger.info({ model, rows: counts.rows, normalized: counts.normalized, duration_ms: Math.round(performance.now() - started) }, 'model materialized');
    } catch (error) {
      modelErrors.set(model, error);
    }
  }
  const results: SyncResult[] = [];
  for (const p of prepared) {
    results.push(await runSync(ctx, p, modelErrors.get(p.model.name) ?? p.problem, modelBytes.get(p.model.name)));
  }
  return results;
}
