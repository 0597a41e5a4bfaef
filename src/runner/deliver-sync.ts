// The delivery phase of one sync: which ops to send in which order, streamed from the warehouse
// through the delivery runtime, with every request's outcome recorded as it happens.
//   mirror: removals first; adds of members whose removal failed are held back (outcome.ts)
//   --full-refresh on a platform that replaces by session: every member's row goes in one replace
//   session, which also drops the leavers, so their removal rows count as sent once it completes.
import type { Logger } from 'pino';
import { deliver, type DeliveryOutcome } from '../platforms/delivery/deliver.js';
import { defaultRetryPolicy } from '../platforms/delivery/retry.js';
import type { DeliveryOp, PlatformReport } from '../platforms/platform.js';
import type { SyncSqlSpec } from '../warehouse/sql/delta.js';
import { coverRemovalsSql, holdBackAddsSql, rowsToSendSql } from '../warehouse/sql/outcome.js';
import type { RunContext } from './context.js';
import { OutcomeWriter } from './outcomes.js';
import type { DestinationClient } from './platforms.js';

export interface DeliveryPlan {
  spec: SyncSqlSpec;
  client: DestinationClient;
  audienceId: string;
  runId: string;
  rowsToSend: { add: number; remove: number };
  replace: boolean;
  logger: Logger;
}

export interface DeliveryResult {
  stopped?: Error;
  rowsSent: number;
  requests: number;
  reports: PlatformReport[];
}

export async function deliverSync(ctx: RunContext, plan: DeliveryPlan): Promise<DeliveryResult> {
  const { warehouse: wh, dialect: d, tables: t } = ctx;
  const { spec, client, audienceId, runId, logger } = plan;
  const writer = new OutcomeWriter(wh, t.deliveries, runId, spec.syncId);
  const out: DeliveryResult = { rowsSent: 0, requests: 0, reports: [] };
  const replace = plan.replace && plan.rowsToSend.add > 0;
  const ops: DeliveryOp[] = replace ? ['replace'] : (['remove', 'add'] as const).filter((op) => plan.rowsToSend[op] > 0);

  for (const op of ops) {
    if (out.stopped) break;
    if (op === 'add' && ops.includes('remove')) {
      await writer.flush();
      await wh.execute(holdBackAddsSql(d, spec, t.deliveries, runId, new Date().toISOString()));
    }
    const summary = await deliver({
      platform: client.platform,
      audienceId,
      op,
      kinds: spec.identifiers.map((i) => i.kind),
      rows: wh.stream(rowsToSendSql(d, spec, op === 'replace' ? 'add' : op, t.deliveries, runId)),
      maxRows: client.maxRows,
      maxBytes: client.maxBytes,
      concurrency: client.concurrency,
      rateQueue: client.rateQueue,
      retry: { ...defaultRetryPolicy, ...ctx.options.retry },
      logger,
      onOutcome: (o: DeliveryOutcome) => writer.add(o),
    });
    await writer.flush();
    out.requests += summary.requests;
    out.rowsSent += summary.rowsSent;
    out.stopped = summary.stopped;
    const report = await client.platform.finish?.(audienceId, op).catch((error: unknown) => {
      logger.warn({ op, error: error instanceof Error ? error.message : String(error) }, 'the platform report could not be collected');
      return undefined;
    });
    if (report) out.reports.push(report);
    logger.info(
      { op, requests: summary.requests, rows_sent: summary.rowsSent, rows_failed: summary.rowsFailed, retries: summary.retries, bisections: summary.bisections },
      `${op} delivered`,
    );
  }
  if (replace && !out.stopped && plan.rowsToSend.remove > 0) {
    await wh.execute(coverRemovalsSql(d, spec, t.deliveries, runId, new Date().toISOString()));
  }
  return out;
}
