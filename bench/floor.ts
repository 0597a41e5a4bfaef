// Floor (a), in a fresh process: DuckDB runs the model's SQL and a FULL OUTER JOIN against the
// previous state on the member key, comparing raw columns, and keeps the changed rows. This is the
// least any tool that diffs in the warehouse must do. Afterwards (not timed) the previous state
// becomes the current one, for the next run's floor. Prints one JSON line.
import { DuckDBInstance } from '@duckdb/node-api';
import { MODEL_COLUMNS, MODEL_SQL } from './crm.js';

export const PREV = 'bench_floor.prev';

export interface FloorResult {
  /** Process start to exit, ms: what a run of audsync is compared with. */
  processMs: number;
  openMs: number;
  queryMs: number;
  changedRows: number;
  maxRssBytes: number;
}

export function floorSql(): string {
  const differs = MODEL_COLUMNS.map((c) => `c.${c} IS DISTINCT FROM p.${c}`).join('\n  OR ');
  return `CREATE TEMP TABLE floor_delta AS
SELECT coalesce(c.customer_id, p.customer_id) AS customer_id,
  CASE WHEN p.customer_id IS NULL THEN 'add' WHEN c.customer_id IS NULL THEN 'remove' ELSE 'change' END AS op,
  ${MODEL_COLUMNS.map((col) => `c.${col}`).join(', ')}
FROM (${MODEL_SQL}) c FULL OUTER JOIN ${PREV} p ON p.customer_id = c.customer_id
WHERE p.customer_id IS NULL OR c.customer_id IS NULL
  OR ${differs}`;
}

async function main(): Promise<void> {
  const { db, memoryLimit, threads } = JSON.parse(process.argv[2]!) as { db: string; memoryLimit?: string; threads?: number };
  const options: Record<string, string> = {};
  if (memoryLimit) options.memory_limit = memoryLimit;
  if (threads) options.threads = String(threads);
  let t = performance.now();
  const instance = await DuckDBInstance.create(db, options);
  const c = await instance.connect();
  const openMs = performance.now() - t;
  t = performance.now();
  await c.run(floorSql());
  const queryMs = performance.now() - t;
  const reader = await c.runAndReadAll('SELECT count(*) AS n FROM floor_delta');
  const changedRows = Number(reader.getRows()[0]![0]);
  const processMs = performance.now(); // since process start: performance's time origin
  await c.run(`CREATE OR REPLACE TABLE ${PREV} AS ${MODEL_SQL}`);
  c.closeSync();
  instance.closeSync();
  const result: FloorResult = { processMs, openMs, queryMs, changedRows, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
