// Batches for platforms that declare a rowEncoding: the warehouse writes each batch's payload rows as
// one string (outcome.ts encodedBatchesSql), a few batches per query, and the next query runs while
// the current batches are being sent. A batch's row ids are not read back: they are the ids from its
// first to its last, less the ones held back in this run (sendSpanSql says why that holds).
import type { Batch } from '../platforms/delivery/batcher.js';
import type { JsonText } from '../platforms/http/json-text.js';
import type { SyncSqlSpec } from '../warehouse/sql/delta.js';
import { scratch } from '../warehouse/sql/names.js';
import { encodedBatchesSql, heldBackRowsSql, sendSpanSql } from '../warehouse/sql/outcome.js';
import type { RunContext } from './context.js';

/**
 * Batches per query: enough to keep requests flowing while the next query runs, few enough that
 * memory stays small (4 x 10,000 rows x ~400 bytes, twice over while the next query runs).
 */
export const BATCHES_PER_QUERY = 4;

interface EncodedBatchRow {
  first_row_id: number;
  last_row_id: number;
  row_count: number;
  /** The batch's JSON array: UTF-8 bytes where the dialect has utf8Bytes, text elsewhere. */
  rows_json: JsonText;
}

export async function* encodedBatches(
  ctx: RunContext,
  spec: SyncSqlSpec,
  op: 'add' | 'remove',
  runId: string,
  maxRows: number,
  batchesPerQuery = BATCHES_PER_QUERY,
): AsyncGenerator<Batch> {
  const { warehouse: wh, dialect: d, tables: t } = ctx;
  const [span] = await wh.query<{ first_row_id: number | null; last_row_id: number | null }>(sendSpanSql(d, spec, op));
  if (span?.first_row_id == null || span.last_row_id == null) return;
  if (d.rangeIndex) await wh.execute(d.rangeIndex(scratch.parts(spec.index), 'row_id'));
  const first = Number(span.first_row_id);
  const last = Number(span.last_row_id);
  const heldRows = await wh.query<{ first_row_id: number }>(heldBackRowsSql(d, spec, op, t.deliveries, runId));
  const held = new Set(heldRows.map((r) => Number(r.first_row_id)));
  const step = maxRows * batchesPerQuery;
  const fetch = (from: number) =>
    from > last ? undefined : wh.query<EncodedBatchRow>(encodedBatchesSql(d, spec, op, t.deliveries, runId, { from, to: Math.min(last, from + step - 1) }, maxRows, held.size > 0));

  let pending = fetch(first);
  try {
    for (let from = first; pending; from += step) {
      const rows = await pending;
      // Asked before these batches go out, so the warehouse works while the platform answers.
      pending = fetch(from + step);
      pending?.catch(() => undefined); // its error surfaces when awaited
      // In row order (the query leaves it to us: encodedBatchesSql), so requests go out as numbered.
      rows.sort((a, b) => Number(a.first_row_id) - Number(b.first_row_id));
      for (const row of rows) yield batchOf(row, held, op);
    }
  } finally {
    // A delivery that stops early leaves a query running: the connection must be free before the
    // runner's next statement.
    await pending?.catch(() => undefined);
  }
}

function batchOf(row: EncodedBatchRow, held: Set<number>, op: string): Batch {
  const firstRowId = Number(row.first_row_id);
  const lastRowId = Number(row.last_row_id);
  const rowIds: number[] = [];
  for (let id = firstRowId; id <= lastRowId; id++) if (!held.has(id)) rowIds.push(id);
  const count = Number(row.row_count);
  if (rowIds.length !== count) {
    throw new Error(`rows ${firstRowId}..${lastRowId} of ${op} hold ${count} rows to send where ${rowIds.length} were expected: the delivery parts are not numbered densely`);
  }
  return { firstRowId, lastRowId, rowIds, rows: [], encoded: { json: row.rows_json, count } };
}
