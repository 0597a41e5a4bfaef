// One sync, in the order the architecture fixes: lock -> audience -> delta -> guardrails -> deliver
// -> commit -> audit. Plan stops after guardrails, so plan and run share every step before sending.
import { createHash, randomUUID } from 'node:crypto';
import { AudsyncError } from '../core/errors.js';
import type { DestinationDef, ModelDef, SyncDef } from '../core/manifest.js';
import type { SyncResult } from '../core/result.js';
import { redact } from '../core/secrets.js';
import { AUDSYNC_VERSION } from '../core/version.js';
import { finishRunSql, insertRunSql, invalidIdentifiersSql, platformReportSql } from '../warehouse/sql/audit.js';
import { commitSql } from '../warehouse/sql/commit.js';
import { literal } from '../warehouse/sql/dialect.js';
import { audienceSizeSql, deltaCountsSql, deltaSql, memberCountsSql, partCountsSql, partsSql, type SyncSqlSpec } from '../warehouse/sql/delta.js';
import { memberResultsSql, resultCountsSql } from '../warehouse/sql/outcome.js';
import type { RunContext } from './context.js';
import { checkGuardrails } from './guardrails.js';
import { acquireLock, releaseLock } from './lock.js';
import { deliverSync } from './deliver-sync.js';
import { estimateBytes } from './materialize.js';

export interface PreparedSync {
  sync: SyncDef;
  model: ModelDef;
  destination: DestinationDef;
  spec: SyncSqlSpec;
  /** Known before anything runs: the sync cannot be sent as configured. */
  problem?: Error;
}

const now = () => new Date().toISOString();

export function emptyResult(p: Pick<PreparedSync, 'sync'>): SyncResult {
  return {
    sync: p.sync.id,
    model: p.sync.model,
    destination: p.sync.destination,
    audience_id: null,
    status: 'failed',
    members: 0,
    added: 0,
    removed: 0,
    changed: 0,
    failed: 0,
    invalid: 0,
    held_out: 0,
    duration_ms: 0,
    error: null,
    no_consent: 0,
    invalid_by_kind: {},
    reports: [],
    bytes_estimated: null,
    rows_to_send: { add: 0, remove: 0 },
    requests: 0,
    guardrail: null,
    audience_created: false,
  };
}

export function errorText(error: unknown): string {
  const text = error instanceof AudsyncError && error.hint ? `${error.message} (${error.hint})` : error instanceof Error ? error.message : String(error);
  return redact(text);
}

export async function runSync(ctx: RunContext, p: PreparedSync, modelError?: unknown, modelBytes?: number): Promise<SyncResult> {
  const started = Date.now();
  const isRun = ctx.options.command === 'run';
  const { warehouse: wh, dialect: d, tables: t } = ctx;
  const logger = ctx.logger.child({ sync: p.sync.id });
  const result = emptyResult(p);
  const runId = randomUUID();
  const finish = (r: SyncResult) => ({ ...r, duration_ms: Date.now() - started });

  if (isRun) {
    const holder = await acquireLock(wh, d, t, p.sync.id, runId);
    if (holder) {
      logger.warn({ holder: holder.holder }, 'another run holds this sync; skipped');
      return finish({ ...result, status: 'skipped', error: `another run (${holder.run_id} on ${holder.holder}) holds the lock of this sync` });
    }
    await wh.execute(
      insertRunSql(d, t, {
        run_id: runId,
        invocation_id: ctx.invocationId,
        sync_id: p.sync.id,
        model: p.model.name,
        destination: p.destination.name,
        mode: p.sync.mode,
        target: ctx.manifest.project.target.name,
        started_at: new Date(started).toISOString(),
        model_sql_sha256: createHash('sha256').update(p.model.sql).digest('hex'),
        audsync_version: AUDSYNC_VERSION,
        full_refresh: Boolean(ctx.options.fullRefresh),
      }),
    );
  }

  const recordFailure = async (error: unknown) => {
    result.status = 'failed';
    result.error = errorText(error);
    logger.error({ error: result.error }, 'sync failed');
    if (isRun) await wh.execute(finishRunSql(d, t, runId, runFinish(result))).catch(() => undefined);
  };

  try {
    if (modelError) {
      await recordFailure(modelError);
      return finish(result);
    }
    const client = await ctx.platforms.get(p.destination);
    const audienceId = await client.platform.resolveAudience(p.sync.audience, { create: isRun });
    result.audience_id = audienceId;
    result.audience_created = audienceId === null;
    const [prior] = await wh.query<{ audience_id: string }>(`SELECT audience_id FROM ${t.syncState} WHERE sync_id = ${literal(d, p.sync.id)}`);
    const spec: SyncSqlSpec = {
      ...p.spec,
      freshStart: audienceId === null || (prior !== undefined && prior.audience_id !== audienceId),
      resendAll: Boolean(ctx.options.fullRefresh),
    };
    if (prior && audienceId && prior.audience_id !== audienceId) {
      logger.warn({ previous: prior.audience_id, audience_id: audienceId }, 'the sync now points at another audience; sending every member to it');
    }

    const [members] = await wh.query<Record<string, number>>(memberCountsSql(d, spec));
    result.members = Number(members?.members ?? 0);
    result.invalid = Number(members?.invalid ?? 0);
    result.held_out = Number(members?.held_out ?? 0);
    result.no_consent = Number(members?.no_consent ?? 0);
    const byKind: Record<string, { present: number; invalid: number }> = {};
    for (const { kind } of spec.identifiers) {
      byKind[kind] = { present: Number(members?.[`present_${kind}`] ?? 0), invalid: Number(members?.[`invalid_${kind}`] ?? 0) };
      result.invalid_by_kind[kind] = byKind[kind].invalid;
    }
    const recordInvalid = invalidIdentifiersSql(d, t, runId, p.sync.id, byKind);

    const deltaStatement = deltaSql(d, spec, t.snapshots);
    const partsStatement = partsSql(d, spec, t.snapshots);
    const deltaBytes = await estimateBytes(ctx, deltaStatement);
    await wh.execute(deltaStatement);
    const partsBytes = await estimateBytes(ctx, partsStatement); // reads the delta table, so only after it exists
    await wh.execute(partsStatement);
    if (deltaBytes !== undefined || modelBytes !== undefined) result.bytes_estimated = (modelBytes ?? 0) + (deltaBytes ?? 0) + (partsBytes ?? 0);
    const delta = byOp(await wh.query<{ op: string; n: number }>(deltaCountsSql(d, spec)));
    const parts = byOp(await wh.query<{ op: string; n: number }>(partCountsSql(d, spec)));
    const [size] = await wh.query<{ n: number }>(audienceSizeSql(d, spec, t.snapshots));
    result.added = delta.add ?? 0;
    result.removed = delta.remove ?? 0;
    result.changed = delta.change ?? 0;
    result.rows_to_send = { add: parts.add ?? 0, remove: parts.remove ?? 0 };

    const verdict = checkGuardrails(p.sync.guardrails, {
      audienceSize: Number(size?.n ?? 0),
      members: result.members,
      added: result.added,
      removed: result.removed,
    });
    result.guardrail = verdict;
    if (!verdict.passed && !ctx.options.force) {
      result.status = 'blocked';
      result.error = `blocked by guardrails: ${verdict.violations.join('; ')} (check the model's data, or run with --force if this change is intended)`;
      logger.warn({ violations: verdict.violations }, 'blocked by guardrails; nothing sent');
      if (isRun) {
        await wh.execute(finishRunSql(d, t, runId, runFinish({ ...result, added: 0, removed: 0, changed: 0 })));
        if (recordInvalid) await wh.execute(recordInvalid);
      }
      return finish(result);
    }
    if (!isRun) {
      result.status = 'planned';
      return finish(result);
    }

    const { stopped, rowsSent, requests, reports, emptied } = await deliverSync(ctx, {
      spec,
      client,
      audienceId: audienceId!,
      runId,
      rowsToSend: result.rows_to_send,
      fullRefresh: ctx.options.fullRefresh ? fullRefreshMode(client.platform.capabilities.replace) : null,
      logger,
    });
    result.requests = requests;
    result.reports = reports;

    const unsent = stopped ? `not sent: ${errorText(stopped)}` : 'not sent';
    await wh.execute(memberResultsSql(d, spec, t.deliveries, runId, unsent, emptied));
    const counts = await wh.query<{ op: string; status: string; n: number }>(resultCountsSql(d, spec));
    const ok = (op: string) => counts.filter((c) => c.op === op && (c.status === 'sent' || c.status === 'noop')).reduce((s, c) => s + Number(c.n), 0);
    result.added = ok('add');
    result.removed = ok('remove');
    result.changed = ok('change');
    result.failed = counts.filter((c) => c.status === 'failed' || c.status === 'dead').reduce((s, c) => s + Number(c.n), 0);
    result.status = stopped ? 'failed' : result.failed > 0 ? 'partial' : 'success';
    result.error = stopped
      ? errorText(stopped)
      : result.failed > 0
        ? `${result.failed} member changes were rejected or cannot be sent; see audsync_changes (status failed or dead)`
        : null;

    const nowIso = now();
    await wh.transaction(async (tx) => {
      for (const statement of commitSql(d, spec, t, { runId, nowIso, destination: p.destination.name, platform: p.destination.type, audienceId: audienceId! })) {
        await tx.execute(statement);
      }
      await tx.execute(finishRunSql(d, t, runId, { ...runFinish(result), rows_sent: rowsSent }));
      for (const report of reports) await tx.execute(platformReportSql(d, t, runId, p.sync.id, p.destination.type, report, nowIso));
      if (recordInvalid) await tx.execute(recordInvalid);
    });
    logger.info({ status: result.status, added: result.added, removed: result.removed, changed: result.changed, failed: result.failed }, 'sync committed');
    return finish(result);
  } catch (error) {
    await recordFailure(error);
    return finish(result);
  } finally {
    if (isRun) await releaseLock(wh, d, t, p.sync.id, runId).catch(() => undefined);
  }
}

function byOp(rows: { op: string; n: number }[]): Record<string, number> {
  return Object.fromEntries(rows.map((r) => [r.op, Number(r.n)]));
}

function runFinish(r: SyncResult) {
  return {
    status: r.status,
    finished_at: now(),
    audience_id: r.audience_id,
    members: r.members,
    added: r.added,
    removed: r.removed,
    changed: r.changed,
    failed: r.failed,
    invalid: r.invalid,
    held_out: r.held_out,
    no_consent: r.no_consent,
    rows_sent: 0,
    requests: r.requests,
    error_message: r.error,
  };
}

/** How a platform does --full-refresh; 'none' means re-sending every member (resendAll) is all we can do. */
function fullRefreshMode(replace: 'session' | 'remove-all' | 'none'): 'session' | 'remove-all' | null {
  return replace === 'none' ? null : replace;
}
