// Streaming from DuckDB through @duckdb/node-api has two traps this module closes.
// 1. A streaming result that fails part-way (out of memory under memory_limit, an I/O error, a cast
//    that only fails on a late row) ends exactly like one that is exhausted: the C API's fetch
//    returns NULL for both and the binding exposes no result_error. A delivery would then send
//    part of the rows and report success. So the rows are counted first (a materialized query,
//    whose errors do surface) and a stream that yields fewer is an error.
// 2. A stream left unfinished keeps its database instance alive after close() until the garbage
//    collector frees the result; the file is then still open in this process, and a second open of
//    it (the next run, a test's query) makes two instances write one file: "Failed to deserialize"
//    later. So a stream the consumer leaves early is drained to its end, which releases it.
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { WarehouseError } from '../../core/errors.js';

export async function* streamChecked(
  connection: DuckDBConnection,
  sql: string,
  params: DuckDBValue[] | undefined,
  convert: (row: Record<string, unknown>) => unknown,
): AsyncIterable<unknown[]> {
  const counted = await connection.runAndReadAll(`SELECT count(*) AS n FROM (${sql}) AS counted`, params);
  const expected = Number(counted.getRowObjectsJS()[0]?.n ?? 0);
  const result = await connection.stream(sql, params);
  let received = 0;
  let exhausted = false;
  try {
    for await (const rows of result.yieldRowObjectJs()) {
      received += rows.length;
      yield rows.map(convert);
    }
    exhausted = true;
  } finally {
    if (!exhausted) {
      // Left early (the consumer stopped or threw): run the rest out so the result lets go of the
      // instance. Chunks are not converted, so this costs DuckDB's time only.
      try {
        while ((await result.fetchChunk())?.rowCount) {
          /* drain */
        }
      } catch {
        /* the consumer's own error is the one to report */
      }
    }
  }
  if (received < expected) {
    throw new WarehouseError(
      'duckdb',
      `the result stream ended after ${received} of ${expected} rows: DuckDB stopped with an error it does not report while streaming`,
      { hint: 'the usual cause is memory: raise memory_limit in the target (or lower threads), then run again; nothing unsent is recorded as sent' },
    );
  }
}
