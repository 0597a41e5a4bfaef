// The delivery phase of one sync: which ops to send in which order, streamed from the warehouse
// through the delivery runtime, with every request's outcome recorded as it happens.
//   mirror: removals first; adds of members whose removal failed are held back (outcome.ts)
//   --full-refresh: every member's row goes in one replace session (Meta), or the audience is
//   emptied with remove-all and every member added again (Google); either way the leavers are gone,
//   so their removal rows count as sent once it completes.
import type { Logger } from 'pino';
import { FatalError, RetriableError } from '../core/errors.js';
import { batches } from '../platforms/delivery/batcher.js';
import { deliver, type DeliveryOutcome } from '../platforms/delivery/deliver.js';
import { defaultRetryPolicy, withRetries } from '../platforms/delivery/retry.js';
import type { DeliveryOp, PlatformReport } from '../platforms/platform.js';
import type { SyncSqlSpec } from '../warehouse/sql/delta.js';
import { coverRemovalsSql, failRowsSql, holdBackAddsSql, rowsToSendSql, unpackRows, type RowsToSend } from '../warehouse/sql/outcome.js';
import type { RunContext } from './context.js';
import { OutcomeWriter } from './outcomes.js';
import { encodedBatches } from './encoded-batches.js';
import type { DestinationClient } from './platforms.js';

export interface DeliveryPlan {
  spec: SyncSqlSpec;
  client: DestinationClient;
  audienceId: string;
  runId: string;
  rowsToSend: { add: number; remove: number };
  /** --full-refresh, by the platform's own means: one replace session, or remove-all then add. */
  fullRefresh: 'session' | 'remove-all' | null;
  logger: Logger;
}

export interface DeliveryResult {
  stopped?: Error;
  /** remove-all succeeded: the platform holds nothing this run did not re-add. */
  emptied: boolean;
  rowsSent: number;
  requests: number;
  reports: PlatformReport[];
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function deliverSync(ctx: RunContext, plan: DeliveryPlan): Promise<DeliveryResult> {
  const { warehouse: wh, dialect: d, tables: t } = ctx;
  const { spec, client, audienceId, runId, logger } = plan;
  const now = () => new Date().toISOString();
  const writer = new OutcomeWriter(wh, t.deliveries, runId, spec.syncId);
  const out: DeliveryResult = { rowsSent: 0, requests: 0, reports: [], emptied: false };
  // A full refresh with nothing to add falls back to plain removals: an audience is never replaced by nothing.
  const refresh = plan.rowsToSend.add > 0 ? plan.fullRefresh : null;
  const ops: DeliveryOp[] =
    refresh === 'session' ? ['replace'] : refresh === 'remove-all' ? ['add'] : (['remove', 'add'] as const).filter((op) => plan.rowsToSend[op] > 0);

  const retry = { ...defaultRetryPolicy, ...ctx.options.retry };
  /** Retries this sync spent, its requests', its remove-all's and its finish() calls' together, against retry.budget. */
  const spent = { retries: 0 };

  if (refresh === 'remove-all') {
    try {
      // Retried like a request (a 503 or a reset before the adds must not end the refresh); emptying
      // an audience twice is harmless.
      const report = await withRetries(retry, spent, () => client.platform.removeAll!(audienceId), (error, attempt, delay) =>
        logger.warn({ attempt, delay_ms: delay, error: error.message }, 'remove-all failed, retrying'),
      );
      out.requests++;
      out.emptied = true;
      if (report) out.reports.push(report);
    } catch (error) {
      out.stopped = error instanceof Error ? error : new Error(message(error));
      return out;
    }
  }

  const delivered: DeliveryOp[] = [];
  for (const op of ops) {
    if (out.stopped) break;
    if (op === 'add' && ops.includes('remove')) {
      await writer.flush();
      await wh.execute(holdBackAddsSql(d, spec, t.deliveries, runId, now()));
    }
    const kinds = spec.identifiers.map((i) => i.kind);
    const partOp = op === 'replace' ? 'add' : op;
    const summary = await deliver({
      platform: client.platform,
      audienceId,
      op,
      kinds,
      batches: encodable(ctx, client, spec)
        ? encodedBatches(ctx, spec, partOp, runId, client.maxRows)
        : batches(streamRowsToSend(wh, rowsToSendSql(d, spec, partOp, t.deliveries, runId)), kinds, { maxRows: client.maxRows, maxBytes: client.maxBytes }, spec.signals),
      concurrency: client.concurrency,
      retry,
      logger,
      onOutcome: (o: DeliveryOutcome) => writer.add(o),
    });
    await writer.flush();
    delivered.push(op);
    spent.retries += summary.retries;
    out.requests += summary.requests;
    out.rowsSent += summary.rowsSent;
    out.stopped = summary.stopped;
    if (op === 'replace' && summary.stopped) {
      // A replace session swaps its batches in with the last one only: stopped before that, the
      // platform keeps the audience it had, so no batch of the session counts as sent.
      await wh.execute(failRowsSql(d, spec, t.deliveries, runId, ['replace'], `not applied: the replace session did not complete: ${message(summary.stopped)}`, now()));
      out.rowsSent = 0;
    }
    try {
      // Retried like a request: a Google Ads job run meets CONCURRENT_MODIFICATION while the list's
      // previous job still runs, and may be free a little later.
      // Last: no op follows (the final one, or the sync stopped), so the platform must not wait for one.
      const last = op === ops.at(-1) || out.stopped !== undefined;
      const report = await withRetries(retry, spent, async () => client.platform.finish?.(audienceId, op, { last }), (error, attempt, delay) =>
        logger.warn({ op, attempt, delay_ms: delay, error: error.message }, 'finishing the upload failed, retrying'),
      );
      if (report) out.reports.push(report);
    } catch (error) {
      // Some platforms only stage rows until finish() applies them (a Google Ads job run): when it
      // fails, nothing delivered in this run is known to have landed, so none of it counts as sent,
      // and the platform must not apply it later either (the next run sends it again).
      client.platform.abandon?.(audienceId);
      const failure = notApplied(error);
      out.stopped ??= failure;
      await wh.execute(failRowsSql(d, spec, t.deliveries, runId, delivered, `not applied: ${failure.message}`, now(), platformCode(error)));
      out.rowsSent = 0;
    }
    logger.info(
      { op, requests: summary.requests, rows_sent: summary.rowsSent, rows_failed: summary.rowsFailed, retries: summary.retries, bisections: summary.bisections },
      `${op} delivered`,
    );
  }
  // The replace session, or the remove-all before the adds, took the leavers out of the audience.
  if (refresh && !out.stopped && plan.rowsToSend.remove > 0) {
    await wh.execute(coverRemovalsSql(d, spec, t.deliveries, runId, now()));
  }
  return out;
}

/** A failed finish() as the sync's error: what the platform said, and what it means for this run's rows. */
function notApplied(error: unknown): Error {
  const text = `${message(error)}; none of this run's changes to the audience count as sent: the next run sends them again`;
  if (error instanceof RetriableError) return new RetriableError(text, error.details, { hint: error.hint, cause: error });
  if (error instanceof FatalError) return new FatalError(text, error.details, { hint: error.hint, cause: error });
  return new Error(text, { cause: error });
}

/** The platform's code for a failure (CONCURRENT_MODIFICATION, ETIMEDOUT...), for audsync_changes.error_code. */
function platformCode(error: unknown): string | undefined {
  return error instanceof RetriableError || error instanceof FatalError ? error.details.code : undefined;
}

/**
 * The warehouse can write this sync's batches whole: the platform declares how its payload holds a
 * row, nothing needs cutting by bytes or carrying per member beside the row (consent signals), and
 * the warehouse reads a range of rows without scanning them all (capabilities.rangeReads).
 */
function encodable(ctx: RunContext, client: DestinationClient, spec: SyncSqlSpec): boolean {
  return (
    ctx.warehouse.capabilities.rangeReads &&
    client.platform.capabilities.rowEncoding === 'json_array' &&
    client.maxBytes === undefined &&
    !spec.signals?.length
  );
}

/** The rows to send, each hashed kind's value unpacked from the one `packed` column ('' was NULL). */
async function* streamRowsToSend(wh: RunContext['warehouse'], q: RowsToSend): AsyncIterable<Record<string, unknown>[]> {
  for await (const chunk of wh.stream(q.sql)) yield unpackRows(chunk, q.packed);
}
