// One sync, in the order the architecture fixes: lock -> audience -> delta -> guardrails -> deliver
// -> commit -> audit. Plan stops after guardrails, so plan and run share every step before sending.
import { createHash, randomUUID } from 'node:crypto';
import { AudsyncError, LockedError } from '../core/errors.js';
import type { DestinationDef, ModelDef, SyncDef } from '../core/manifest.js';
import type { SyncResult } from '../core/result.js';
import { redact } from '../core/secrets.js';
import { AUDSYNC_VERSION } from '../core/version.js';
import { finishRunSql, insertRunSql, invalidIdentifiersSql, platformReportSql } from '../warehouse/sql/audit.js';
import { commitSql, newDeadLettersSql, retriesCountSql } from '../warehouse/sql/commit.js';
import { literal } from '../warehouse/sql/dialect.js';
import { audienceSizeSql, deltaCountsSql, deltaSql, type SyncSqlSpec } from '../warehouse/sql/delta.js';
import { partCountsSql, partsSql } from '../warehouse/sql/parts.js';
import { memberResultsSql, resultCountsSql } from '../warehouse/sql/outcome.js';
import type { RunContext } from './context.js';
import { checkGuardrails } from './guardrails.js';
import { acquireLockWaiting, holdsLock, releaseLock, startHeartbeat, type Heartbeat } from './lock.js';
import { closeInterruptedRunsSql, interruptedMessage, markSendingSql, uncertainRunsSql } from './recovery.js';
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
    dead_letters: 0,
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
  // Wall time per phase, logged with 'sync committed': where a slow sync spends its time.
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const endPhase = (name: string) => {
    const at = performance.now();
    phases[name] = (phases[name] ?? 0) + Math.round(at - phaseStart);
    phaseStart = at;
  };

  let heartbeat: Heartbeat | undefined;
  /** An earlier run died between sending and committing: this one re-sends every member (recovery.ts). */
  let recovering = false;
  // add_only never removes, so what the snapshot says is held stays held: nothing to recover.
  const uncertain = async () =>
    p.sync.mode === 'mirror' && Number((await wh.query<{ n: number }>(uncertainRunsSql(d, t, p.sync.id)))[0]?.n ?? 0) > 0;
  if (isRun) {
    const waitMs = ctx.options.waitMs ?? 0;
    const holder = await acquireLockWaiting(wh, d, t, p.sync.id, runId, {
      waitMs,
      timing: ctx.options.lock,
      onWait: (h) => logger.info({ holder: h.holder, wait_ms: waitMs }, 'another run holds this sync; waiting for it (--wait)'),
    });
    if (holder) {
      logger.warn({ holder: holder.holder }, 'another run holds this sync; skipped');
      const waited = waitMs > 0 ? ` for the whole --wait of ${Math.round(waitMs / 1000)} s` : '; run with --wait to wait for it';
      return finish({ ...result, status: 'skipped', error: `another run (${holder.run_id} on ${holder.holder}) holds the lock of this sync${waited}` });
    }
    heartbeat = startHeartbeat(wh, d, t, p.sync.id, runId, logger, ctx.options.lock);
    await wh.execute(closeInterruptedRunsSql(d, t, p.sync.id, runId, now()));
    recovering = await uncertain();
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
        full_refresh: Boolean(ctx.options.fullRefresh) || recovering,
      }),
    );
  }

  let sending = false;
  let committed = false;
  const recordFailure = async (error: unknown) => {
    result.status = 'failed';
    result.error = sending && !committed ? interruptedMessage(errorText(error)) : errorText(error);
    logger.error({ error: result.error }, 'sync failed');
    if (isRun) await wh.execute(finishRunSql(d, t, runId, runFinish(result))).catch(() => undefined);
  };

  try {
    if (modelError) {
      await recordFailure(modelError);
      return finish(result);
    }
    if (!isRun) recovering = await uncertain();
    const fullRefresh = Boolean(ctx.options.fullRefresh) || recovering;
    if (recovering && !ctx.options.fullRefresh) {
      logger.warn('an earlier run of this sync was interrupted after sending and before its commit: this run re-sends every member, so the audience is exact again');
    }
    const client = await ctx.platforms.get(p.destination);
    // Its lookups and creates wait in the account's rate limit like every request (platforms.ts).
    const audienceId = await client.platform.resolveAudience(p.sync.audience, { create: isRun });
    result.audience_id = audienceId;
    result.audience_created = audienceId === null;
    const [prior] = await wh.query<{ audience_id: string }>(`SELECT audience_id FROM ${t.syncState} WHERE sync_id = ${literal(d, p.sync.id)}`);
    const spec: SyncSqlSpec = {
      ...p.spec,
      freshStart: audienceId === null || (prior !== undefined && prior.audience_id !== audienceId),
      resendAll: fullRefresh,
    };
    if (prior && audienceId && prior.audience_id !== audienceId) {
      logger.warn({ previous: prior.audience_id, audience_id: audienceId }, 'the sync now points at another audience; sending every member to it');
    }

    // This sync sends every member, so every member must be normalized: a candidate that skipped
    // unchanged ones is rebuilt whole, once for all the model's syncs.
    const whole = ctx.partialCandidates.get(p.model.name);
    if (whole !== undefined && (spec.freshStart || spec.resendAll)) {
      logger.info('this sync sends every member: normalizing the members the candidate skipped');
      await wh.execute(whole);
      ctx.partialCandidates.delete(p.model.name);
    }
    // Still the candidate joined with the snapshots: the delta reads what changed from it alone.
    spec.snapshotJoined = ctx.partialCandidates.has(p.model.name);
    endPhase('prepare');
    // Counted with the model's key checks, unchanged members from their snapshots (materialize.ts).
    const members = ctx.memberCounts.get(spec.index);
    if (!members) throw new Error(`no member counts for sync ${p.sync.id}: its model was not materialized`);
    result.members = Number(members.members ?? 0);
    result.invalid = Number(members.invalid ?? 0);
    result.held_out = Number(members.held_out ?? 0);
    result.no_consent = Number(members.no_consent ?? 0);
    const byKind: Record<string, { present: number; invalid: number }> = {};
    for (const { kind } of spec.identifiers) {
      byKind[kind] = { present: Number(members[`present_${kind}`] ?? 0), invalid: Number(members[`invalid_${kind}`] ?? 0) };
      result.invalid_by_kind[kind] = byKind[kind].invalid;
    }
    const recordInvalid = invalidIdentifiersSql(d, t, runId, p.sync.id, byKind);

    const deltaStatement = deltaSql(d, spec, t.snapshots, t.retries);
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
    result.dead_letters = delta.dead ?? 0; // dead-lettered by earlier runs: counted, not sent
    result.rows_to_send = { add: parts.add ?? 0, remove: parts.remove ?? 0 };

    const verdict = checkGuardrails(p.sync.guardrails, {
      audienceSize: Number(size?.n ?? 0),
      members: result.members,
      added: result.added,
      removed: result.removed,
    });
    result.guardrail = verdict;
    endPhase('diff');
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

    await wh.execute(markSendingSql(d, t, runId));
    sending = true;
    const { stopped, rowsSent, requests, reports, emptied } = await deliverSync(ctx, {
      spec,
      client,
      audienceId: audienceId!,
      runId,
      rowsToSend: result.rows_to_send,
      // A recovery replaces only where the platform swaps a whole list in at once (Meta's session);
      // a Google list is not emptied by remove-all for it: re-sending every member is enough there.
      fullRefresh: ctx.options.fullRefresh
        ? fullRefreshMode(client.platform.capabilities.replace)
        : recovering && client.platform.capabilities.replace === 'session'
          ? 'session'
          : null,
      logger,
    });
    result.requests = requests;
    result.reports = reports;
    endPhase('deliver');

    const unsent = stopped ? `not sent: ${errorText(stopped)}` : 'not sent';
    await wh.execute(memberResultsSql(d, spec, t.deliveries, runId, unsent, emptied));
    const counts = await wh.query<{ op: string; status: string; n: number }>(resultCountsSql(d, spec));
    const ok = (op: string) => counts.filter((c) => c.op === op && (c.status === 'sent' || c.status === 'noop')).reduce((s, c) => s + Number(c.n), 0);
    result.added = ok('add');
    result.removed = ok('remove');
    result.changed = ok('change');
    result.failed = counts.filter((c) => c.status === 'failed' || c.status === 'dead').reduce((s, c) => s + Number(c.n), 0);
    const [newlyDead] = await wh.query<{ n: number }>(newDeadLettersSql(d, spec, t, Boolean(stopped)));
    const deadNow = Number(newlyDead?.n ?? 0) + counts.filter((c) => c.status === 'dead').reduce((s, c) => s + Number(c.n), 0);
    result.dead_letters += deadNow;
    result.status = stopped ? 'failed' : result.failed > 0 || result.dead_letters > 0 ? 'partial' : 'success';
    result.error = stopped ? errorText(stopped) : partialMessage(result.failed, deadNow, result.dead_letters - deadNow, p.sync.maxAttempts);

    // A run that stalled past its lock's expiry may have been overtaken: it must not commit.
    if (!(await holdsLock(wh, d, t, p.sync.id, runId))) {
      throw new LockedError('this run lost the lock of the sync to another run while it was delivering; nothing was committed', {
        hint: 'what it sent is sent again by a later run (re-sending is harmless); check for runs overlapping or stalling for minutes',
      });
    }
    const nowIso = now();
    const [retrying] = await wh.query<{ n: number }>(retriesCountSql(d, spec, t));
    let auditMs = 0;
    await wh.transaction(async (tx) => {
      const commit = {
        runId,
        nowIso,
        destination: p.destination.name,
        platform: p.destination.type,
        audienceId: audienceId!,
        stopped: Boolean(stopped),
        snapshotWasEmpty: Number(size?.n ?? 0) === 0,
        noRetries: Number(retrying?.n ?? 0) === 0,
        noFailures: !counts.some((c) => c.status === 'failed' && Number(c.n) > 0),
      };
      for (const statement of commitSql(d, spec, t, commit)) {
        const started = performance.now();
        await tx.execute(statement);
        // The audit trail (audsync_changes, audsync_retries) is timed apart from the snapshot's advance.
        const target = /^(?:INSERT INTO|DELETE FROM|UPDATE) (\S+)/.exec(statement)?.[1];
        if (target !== t.snapshots && target !== t.syncState) auditMs += performance.now() - started;
      }
      await tx.execute(finishRunSql(d, t, runId, { ...runFinish(result), rows_sent: rowsSent }));
      for (const report of reports) await tx.execute(platformReportSql(d, t, runId, p.sync.id, p.destination.type, report, nowIso));
      if (recordInvalid) await tx.execute(recordInvalid);
    });
    committed = true;
    endPhase('commit');
    phases.audit = Math.round(auditMs);
    phases.commit! -= phases.audit;
    logger.info(
      { status: result.status, added: result.added, removed: result.removed, changed: result.changed, failed: result.failed, dead_letters: result.dead_letters, phases_ms: phases },
      'sync committed',
    );
    return finish(result);
  } catch (error) {
    await recordFailure(error);
    return finish(result);
  } finally {
    await heartbeat?.stop();
    if (isRun) await releaseLock(wh, d, t, p.sync.id, runId).catch(() => undefined);
  }
}

/** Why a completed run is partial: changes that failed now (some dead-lettered now), dead letters left from earlier runs. */
function partialMessage(failed: number, deadNow: number, deadBefore: number, maxAttempts: number): string | null {
  const parts: string[] = [];
  if (failed > 0) {
    const dead = deadNow > 0 ? ` (${deadNow} of them dead-lettered: not retried until their data changes)` : '';
    parts.push(`${failed} member changes were rejected or cannot be sent${dead}; see audsync_changes (status failed or dead)`);
  }
  if (deadBefore > 0) {
    parts.push(
      `${deadBefore} member changes are dead-lettered (failed max_attempts = ${maxAttempts} times) and are not retried until their data changes or a run with --full-refresh; see audsync_changes (status dead) and audsync_retries`,
    );
  }
  return parts.length > 0 ? parts.join('; ') : null;
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
