// Canary helpers: capture what audsync writes (logs, files, warehouse tables) as text, and find
// planted PII or secrets in it. Matching is case-insensitive, so a lowercased (normalized) copy of a
// planted value is found as well as the raw one.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger, type Logger } from '../../src/core/log.js';

const BIN = resolve(import.meta.dirname, '../../bin/audsync.js');

/** The needles found in `haystack`, case-insensitively. */
export function findCanaries(haystack: string, needles: readonly string[]): string[] {
  const text = haystack.toLowerCase();
  return needles.filter((n) => text.includes(n.toLowerCase()));
}

/** A pino logger (audsync's own createLogger, so its redaction hook is in place) writing into memory. */
export function captureLogger(level = 'trace'): { logger: Logger; text(): string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level, destination: sink }), text: () => chunks.join('') };
}

/** Every table of a DuckDB file, every row, as JSON text; and which tables there were. */
export async function dumpTables(dbFile: string): Promise<{ tables: string[]; text: string }> {
  const db = await DuckDBInstance.create(dbFile);
  const c = await db.connect();
  try {
    const list = await c.runAndReadAll(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1, 2`,
    );
    const tables = list.getRowObjectsJS().map((r) => `${String(r.table_schema)}.${String(r.table_name)}`);
    const parts: string[] = [];
    for (const table of tables) {
      const [schema, name] = table.split('.') as [string, string];
      const rows = (await c.runAndReadAll(`SELECT * FROM "${schema}"."${name}"`)).getRowObjectsJS();
      parts.push(`-- ${table}\n${JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    }
    return { tables, text: parts.join('\n') };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** The raw bytes of every file under `dir` (recursively) whose relative path `keep` accepts, as latin1 text. */
export async function rawFiles(dir: string, keep: (relativePath: string) => boolean): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const rel = relative(dir, full);
    if (!keep(rel)) continue;
    out.push({ path: rel, text: (await readFile(full)).toString('latin1') });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/audsync.js <args> --project-dir <dir>` as a subprocess. */
export function runCli(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args, '--project-dir', dir], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
