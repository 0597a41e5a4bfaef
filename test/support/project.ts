// A throwaway audsync project in a temp dir: CSV source data the test rewrites between runs, a
// DuckDB file for state, and a Meta destination pointed at a loopback simulator via api_base_url.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { InvocationResult } from '../../src/core/result.js';
import { runInvocation } from '../../src/runner/invocation.js';
import type { RunOptions } from '../../src/runner/context.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

export interface Customer {
  customer_id: string;
  email: string | null;
  ads_consent: boolean;
}

export const TOKEN_ENV = 'AUDSYNC_TEST_META_TOKEN';
const BIN = resolve(import.meta.dirname, '../../bin/audsync.js');

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The reference normalization for email: whitespace removed, lowercased. */
export const emailHash = (raw: string) => sha256(raw.replace(/\s+/g, '').toLowerCase());

export interface TestProject {
  dir: string;
  sandbox: Sandbox;
  audienceName: string;
  env: NodeJS.ProcessEnv;
  writeCustomers(rows: Customer[]): Promise<void>;
  run(options?: Partial<RunOptions>): Promise<InvocationResult>;
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  audienceId(): string;
  /** Add and remove requests the simulator answered, oldest first (lookups excluded). */
  writes(): { op: string; rows: number; status: number }[];
  audienceHashes(): string[];
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  cleanup(): Promise<void>;
}

export interface ProjectOptions {
  modelExtra?: string; // YAML lines appended to the model file
  syncExtra?: string; // YAML lines appended under the sync (indented 4)
  defaults?: string; // YAML for `defaults:` (indented 2)
  databaseFile?: string; // DuckDB state file name, default state.duckdb
}

export async function createProject(options: ProjectOptions = {}): Promise<TestProject> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-e2e-'));
  const sandbox = await startSandbox();
  const audienceName = 'Recent buyers';
  const databaseFile = options.databaseFile ?? 'state.duckdb';
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: e2e
target: local
targets:
  local:
    warehouse: { type: duckdb, path: ${databaseFile} }
state_schema: audsync
defaults:
${options.defaults ?? '  guardrails: { max_remove_percent: 100, min_members: 0 }'}
`,
  );
  await writeFile(
    join(dir, 'models', 'buyers.yml'),
    `name: buyers
sql: |
  SELECT customer_id, email, ads_consent
  FROM read_csv('data/customers.csv', header = true,
    columns = {'customer_id': 'VARCHAR', 'email': 'VARCHAR', 'ads_consent': 'BOOLEAN'})
key: customer_id
identifiers: { email: email }
consent: ads_consent
${options.modelExtra ?? ''}
syncs:
  - destination: meta
    audience: { name: "${audienceName}" }
${options.syncExtra ?? ''}
`,
  );
  await writeFile(
    join(dir, 'destinations', 'meta.yml'),
    `name: meta
type: meta_custom_audiences
ad_account_id: act_1000
access_token: \${${TOKEN_ENV}}
api_base_url: ${sandbox.urlFor('meta')}
`,
  );
  const env = { ...process.env, [TOKEN_ENV]: SANDBOX_TOKEN };

  const project: TestProject = {
    dir,
    sandbox,
    audienceName,
    env,
    async writeCustomers(rows) {
      const csv = ['customer_id,email,ads_consent', ...rows.map((r) => `${r.customer_id},${csvField(r.email)},${r.ads_consent}`)];
      await writeFile(join(dir, 'data', 'customers.csv'), csv.join('\n') + '\n');
    },
    async run(runOptions = {}) {
      const manifest = await loadProject(dir, { env });
      return runInvocation(manifest, { command: 'run', logger: silentLogger, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...runOptions });
    },
    cli(args, extraEnv = {}) {
      return new Promise((done) => {
        execFile(process.execPath, [BIN, ...args, '--project-dir', dir], { env: { ...env, ...extraEnv }, timeout: 60_000 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          done({ code, stdout, stderr });
        });
      });
    },
    audienceId() {
      const audience = sandbox.meta.audiences().find((a) => a.name === audienceName);
      if (!audience) throw new Error('audience not created');
      return audience.id;
    },
    writes() {
      return sandbox.meta.requests.filter((r) => r.op === 'add' || r.op === 'remove');
    },
    audienceHashes() {
      const audience = sandbox.meta.audiences().find((a) => a.name === audienceName);
      return audience ? sandbox.meta.members(audience.id, 'EMAIL') : [];
    },
    async query(sql) {
      const db = await DuckDBInstance.create(join(dir, databaseFile));
      const c = await db.connect();
      try {
        const reader = await c.runAndReadAll(sql);
        return reader.getRowObjectsJS().map((row) =>
          Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
        ) as never;
      } finally {
        c.closeSync();
        db.closeSync();
      }
    },
    async cleanup() {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return project;
}

function csvField(value: string | null): string {
  if (value === null) return '';
  return `"${value.replace(/"/g, '""')}"`;
}

/** The hashes an audience must hold: consented members' valid emails, each once. */
export function expectedHashes(rows: Customer[]): string[] {
  const valid = rows.filter((r) => r.ads_consent && r.email && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(r.email.replace(/\s+/g, '')));
  return [...new Set(valid.map((r) => emailHash(r.email!)))].sort();
}
