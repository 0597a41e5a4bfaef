// Reading a project's DuckDB file from a test, the way an analyst would: open it, run one query,
// close it again (so the next audsync run can take the file). BIGINTs come back as numbers.
import { DuckDBInstance } from '@duckdb/node-api';

export async function queryDuckDbFile<T = Record<string, unknown>>(file: string, sql: string): Promise<T[]> {
  const db = await DuckDBInstance.create(file);
  const c = await db.connect();
  try {
    const reader = await c.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]))) as T[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
