// One `audsync run` or `audsync plan`: connect, migrate, materialize each model once, then each sync.
// Plan runs inside a transaction that is rolled back, so it leaves the warehouse as it found it.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Manifest } from '../core/manifest.js';
import { overallStatus, type InvocationResult, type SyncResult } from '../core/result.js';
import { selectSyncs } from '../config/select.js';
import { loadWarehouse } from '../warehouse/registry.js';
import { sqlDialect } from '../warehouse/sql/dialect.js';
import { stateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { startSandbox, sandboxPathFor, type Sandbox } from '../sandbox/index.js';
import type { RunContext, RunOptions } from './context.js';
import { materializeModel } from './materialize.js';
import { PlatformPool } from './platforms.js';
import { identifiersByModel, prepareSyncs } from './prepare.js';
import { migrate } from './state.js';
import { runSync } from './sync.js';

class PlanRollback extends Error {}

export async function runInvocation(manifest: Manifest, options: RunOptions): Promise<InvocationResult> {
  const invocationId = randomUUID();
  const logger = options.logger.child({ invocation_id: invocationId });
  const selected = selectSyncs(manifest, options.select);
  const prepared = await prepareSyncs(manifest, selected);
  const { project } = manifest;

  let sandbox: Sandbox | undefined;
  if (project.target.sandbox) {
    sandbox = await startSandbox({ stateFile: join(project.projectDir, '.audsync', 'sandbox.json') });
    logger.info({ url: sandbox.url }, 'sandbox target: destinations talk to the local simulators');
  }
  const platforms = new PlatformPool(logger, sandbox ? (type) => `${sandbox!.url}${sandboxPathFor(type)}` : undefined);
  const definition = await loadWarehouse(project.target.warehouse.type);
  const { type: _type, ...warehouseConfig } = project.target.warehouse;
  const warehouse = await definition.connect(warehouseConfig, { projectDir: project.projectDir });
  const dialect = sqlDialect(warehouse.capabilities.dialect);
  const ctx: RunContext = {
    manifest,
    options,
    invocationId,
    warehouse,
    dialect,
    tables: stateTables(dialect, project.stateSchema, warehouse.catalog),
    platforms,
    logger,
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
    await platforms.close();
    await warehouse.close();
    await sandbox?.close();
  }
}

async function runAll(ctx: RunContext, prepared: Awaited<ReturnType<typeof prepareSyncs>>): Promise<SyncResult[]> {
  await migrate(ctx.warehouse, ctx.dialect, ctx.manifest.project.stateSchema);
  const nowIso = new Date().toISOString();
  const modelErrors = new Map<string, unknown>();
  const modelBytes = new Map<string, number | undefined>();
  for (const [model, identifiers] of identifiersByModel(prepared.filter((p) => !p.problem))) {
    const def = ctx.manifest.models.find((m) => m.name === model)!;
    try {
      modelBytes.set(model, (await materializeModel(ctx, def, identifiers, nowIso)).bytesEstimated);
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
