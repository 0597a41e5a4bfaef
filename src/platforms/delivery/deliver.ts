// The delivery runtime shared by every platform: requests in parallel up to the concurrency limit,
// retried with backoff, each request's outcome reported as it happens. The rate limit is the ad
// account's, applied to every HTTP call the platform makes (runner/platforms.ts), not per batch.
// Memory is bounded by batch size x concurrency, never by audience size.
import { randomInt } from 'node:crypto';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { FatalError, RetriableError } from '../../core/errors.js';
import type { IdentifierKind } from '../../core/identifiers.js';
import { redact } from '../../core/secrets.js';
import { batchRowCount, type DeliveryOp, type Platform } from '../platform.js';
import { decodeRows, type Batch } from './batcher.js';
import { backoffMs, sleep, type RetryPolicy } from './retry.js';

export interface DeliveryOutcome {
  op: DeliveryOp;
  firstRowId: number;
  lastRowId: number;
  rowCount: number;
  status: 'sent' | 'failed';
  attempts: number;
  errorCode?: string;
  errorMessage?: string;
}

export interface DeliverOptions {
  platform: Platform;
  audienceId: string;
  op: DeliveryOp;
  kinds: IdentifierKind[];
  /** Request-sized batches in row_id order: batcher.ts's batches() or runner/encoded-batches.ts. */
  batches: AsyncIterable<Batch>;
  concurrency: number;
  retry: RetryPolicy;
  logger: Logger;
  onOutcome(outcome: DeliveryOutcome): Promise<void>;
}

export interface DeliverySummary {
  requests: number;
  rowsSent: number;
  rowsFailed: number;
  retries: number;
  bisections: number;
  /** Set when the sync had to stop: the rest of its rows were not sent. */
  stopped?: Error;
}

export async function deliver(o: DeliverOptions): Promise<DeliverySummary> {
  const summary: DeliverySummary = { requests: 0, rowsSent: 0, rowsFailed: 0, retries: 0, bisections: 0 };
  if (o.op === 'replace') return deliverReplace(o, summary);
  const inFlight = new PQueue({ concurrency: o.concurrency });
  const stop = (error: Error) => {
    summary.stopped ??= error;
  };

  for await (const batch of o.batches) {
    if (summary.stopped) break;
    // Backpressure: read no further ahead than the requests we may have open.
    await inFlight.onSizeLessThan(o.concurrency);
    if (summary.stopped) break;
    inFlight.add(() => sendWithRetries(o, batch, summary, stop)).catch(stop);
  }
  await inFlight.onIdle();
  return summary;
}

/**
 * A replace is one session: batches go one at a time, in order, and the last carries the flag that
 * swaps the new membership in. One batch is read ahead to know which is last. The first failure
 * stops the session; the platform then keeps the audience it had.
 */
async function deliverReplace(o: DeliverOptions, summary: DeliverySummary): Promise<DeliverySummary> {
  const id = String(randomInt(1, 2 ** 32)); // the client picks it; Meta's own uploader uses a random uint32
  let seq = 0;
  let pending: Batch | undefined;
  const stop = (error: Error) => {
    summary.stopped ??= error;
  };
  for await (const batch of o.batches) {
    if (pending) await sendWithRetries(o, { ...pending, session: { id, seq: ++seq, last: false } }, summary, stop);
    if (summary.stopped) return summary;
    pending = batch;
  }
  if (pending) await sendWithRetries(o, { ...pending, session: { id, seq: ++seq, last: true } }, summary, stop);
  return summary;
}

async function sendWithRetries(o: DeliverOptions, batch: Batch, summary: DeliverySummary, stop: (e: Error) => void): Promise<void> {
  const rowCount = batchRowCount(batch);
  const base = { op: o.op, firstRowId: batch.firstRowId, lastRowId: batch.lastRowId, rowCount };
  for (let attempt = 1; ; attempt++) {
    if (summary.stopped) return; // another request hit a fatal error: leave this range unsent
    try {
      summary.requests++;
      const result = await o.platform.send({
        audienceId: o.audienceId,
        op: o.op,
        kinds: o.kinds,
        rows: batch.rows,
        ...(batch.encoded ? { encoded: batch.encoded } : {}),
        consent: batch.consent,
        session: batch.session,
      });
      if (result.wholeBatch && rowCount > 1 && !batch.session) {
        // Refused whole for rows it did not name: halve until the bad rows stand alone, so the good
        // ones still get through. Costs about 2 x log2(batch) requests per bad row.
        summary.bisections++;
        const [left, right] = split(batch, o.kinds);
        await sendWithRetries(o, left, summary, stop);
        await sendWithRetries(o, right, summary, stop);
        return;
      }
      const rejected = [...new Map(result.rejected.map((r) => [r.index, r])).values()];
      await o.onOutcome({ ...base, status: 'sent', attempts: attempt });
      for (const r of rejected) {
        const rowId = batch.rowIds[r.index];
        if (rowId === undefined) throw new Error(`the platform rejected row ${r.index} of a ${rowCount}-row request`);
        await o.onOutcome({
          op: o.op,
          firstRowId: rowId,
          lastRowId: rowId,
          rowCount: 1,
          status: 'failed',
          attempts: attempt,
          errorCode: r.code ?? 'rejected',
          errorMessage: redact(r.reason),
        });
      }
      summary.rowsSent += rowCount - rejected.length;
      summary.rowsFailed += rejected.length;
      return;
    } catch (error) {
      const retriable = error instanceof RetriableError;
      if (retriable && attempt < o.retry.maxAttempts && summary.retries < o.retry.budget) {
        summary.retries++;
        const delay = backoffMs(o.retry, attempt, error.details.retryAfterMs);
        o.logger.warn({ op: o.op, rows: rowCount, attempt, delay_ms: delay, error: error.message }, 'request failed, retrying');
        await sleep(delay);
        continue;
      }
      const message = error instanceof Error ? error.message : String(error);
      const code = retriable ? (error.details.code ?? 'retries_exhausted') : error instanceof FatalError ? (error.details.code ?? 'fatal') : 'error';
      await o.onOutcome({ ...base, status: 'failed', attempts: attempt, errorCode: code, errorMessage: redact(message) });
      summary.rowsFailed += rowCount;
      // Fatal answers, a platform still failing after every retry, and a spent retry budget stop the
      // sync: sending the rest would only fail the same way.
      const reason =
        retriable && summary.retries >= o.retry.budget
          ? `stopped after spending the retry budget of ${o.retry.budget} retries: ${message}`
          : `gave up after ${attempt} attempts: ${message}`;
      stop(retriable ? new RetriableError(reason, error.details) : error instanceof Error ? error : new Error(message));
      return;
    }
  }
}

/** Halves of a batch; an encoded one is decoded first (once: its halves are plain rows). */
function split(batch: Batch, kinds: IdentifierKind[]): [Batch, Batch] {
  const rows = batch.encoded ? decodeRows(batch.encoded, kinds) : batch.rows;
  const mid = Math.ceil(rows.length / 2);
  const part = (from: number, to: number): Batch => {
    const rowIds = batch.rowIds.slice(from, to);
    return {
      firstRowId: rowIds[0]!,
      lastRowId: rowIds.at(-1)!,
      rowIds,
      rows: rows.slice(from, to),
      ...(batch.consent ? { consent: batch.consent.slice(from, to) } : {}),
    };
  };
  return [part(0, mid), part(mid, rows.length)];
}
