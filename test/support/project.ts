// A throwaway audsync project in a temp dir and a Meta destination pointed at a loopback simulator
// via api_base_url, on either warehouse: DuckDB (CSV source data the test rewrites between runs, a
// DuckDB file for state) or Postgres (a fresh database holding crm.customers and the state schema).
import { queryDuckDbFile } from './duckdb.js';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { InvocationResult } from '../../src/core/result.js';
import { runInvocation } from '../../src/runner/invocation.js';
import type { RunOptions } from '../../src/runner/context.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export interface Customer {
  customer_id: string;
  email: string | null;
  ads_consent: boolean;
}

export const TOKEN_ENV = 'AUDSYNC_TEST_META_TOKEN';
/** The per-test database's URL, read by the project's `connection: "${...}"`. */
export const PG_DB_URL_ENV = 'AUDSYNC_TEST_PG_DB_URL';

export type WarehouseKind = 'duckdb' | 'postgres';
/** The warehouses the conformance scenarios run on, every time. */
export const WAREHOUSES: WarehouseKind[] = ['duckdb', 'postgres'];
const BIN = resolve(import.meta.dirname, '../../bin/audsync.js');

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The reference normalization for email: whitespace removed, lowercased. */
export const emailHash = (raw: string) => sha256(raw.replace(/\s+/g, '').toLowerCase());

export interface TestProject {
  dir: string;
  warehouse: WarehouseKind;
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
  warehouse?: WarehouseKind; // default duckdb
  modelExtra?: string; // YAML lines appended to the model file
  syncExtra?: string; // YAML lines appended under the sync (indented 4)
  defaults?: string; // YAML for `defaults:` (indented 2)
  databaseFile?: string; // DuckDB state file name, default state.duckdb
  identifiers?: string; // YAML flow mapping of the model's identifiers, default { email: email }
}

/** Where the source rows and the state live, and how the test writes and reads them. */
interface Backend {
  warehouseYaml: string;
  modelSql: string; // indented 2
  env: NodeJS.ProcessEnv;
  writeCustomers(rows: Customer[]): Promise<void>;
  query<T>(sql: string): Promise<T[]>;
  cleanup(): Promise<void>;
}

export async function createProject(options: ProjectOptions = {}): Promise<TestProject> {
  const warehouse = options.warehouse ?? 'duckdb';
  const dir = await mkdtemp(join(tmpdir(), 'audsync-e2e-'));
  const backend = warehouse === 'postgres' ? await postgresBackend() : duckdbBackend(dir, options.databaseFile ?? 'state.duckdb');
  const sandbox = await startSandbox().catch(async (error: unknown) => {
    await backend.cleanup(); // no database left behind
    throw error;
  });
  const audienceName = 'Recent buyers';
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: e2e
target: local
targets:
  local:
    warehouse: ${backend.warehouseYaml}
state_schema: audsync
defaults:
${options.defaults ?? '  guardrails: { max_remove_percent: 100, min_members: 0 }'}
`,
  );
  await writeFile(
    join(dir, 'models', 'buyers.yml'),
    `name: buyers
sql: |
${backend.modelSql}
key: customer_id
identifiers: ${options.identifiers ?? '{ email: email }'}
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
  const env = { ...process.env, ...backend.env, [TOKEN_ENV]: SANDBOX_TOKEN };

  const project: TestProject = {
    dir,
    warehouse,
    sandbox,
    audienceName,
    env,
    writeCustomers: (rows) => backend.writeCustomers(rows),
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
    query: (sql) => backend.query(sql),
    async cleanup() {
      await sandbox.close();
      await backend.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return project;
}

/** DuckDB: the source is a CSV file read by the model; the state is a DuckDB file in the project. */
function duckdbBackend(dir: string, databaseFile: string): Backend {
  return {
    warehouseYaml: `{ type: duckdb, path: ${databaseFile} }`,
    modelSql: `  SELECT customer_id, email, ads_consent
  FROM read_csv('data/customers.csv', header = true,
    columns = {'customer_id': 'VARCHAR', 'email': 'VARCHAR', 'ads_consent': 'BOOLEAN'})`,
    env: {},
    async writeCustomers(rows) {
      const csv = ['customer_id,email,ads_consent', ...rows.map((r) => `${r.customer_id === '' ? '' : csvField(r.customer_id)},${csvField(r.email)},${r.ads_consent}`)];
      await writeFile(join(dir, 'data', 'customers.csv'), csv.join('\n') + '\n');
    },
    query: (sql) => queryDuckDbFile(join(dir, databaseFile), sql) as never,
    async cleanup() {},
  };
}

/** Postgres: a fresh database with crm.customers as the source; state in its audsync schema. */
async function postgresBackend(): Promise<Backend> {
  const db: TestDatabase = await createTestDatabase();
  await db.query(`CREATE SCHEMA crm; CREATE TABLE crm.customers (customer_id text, email text, ads_consent boolean)`);
  return {
    warehouseYaml: `{ type: postgres, connection: "\${${PG_DB_URL_ENV}}" }`,
    modelSql: '  SELECT customer_id, email, ads_consent FROM crm.customers',
    env: { [PG_DB_URL_ENV]: db.url },
    async writeCustomers(rows) {
      await db.query('TRUNCATE crm.customers');
      if (rows.length === 0) return;
      const values = rows.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ');
      // As in the CSV, an empty customer_id is a missing one (NULL).
      const params = rows.flatMap((r) => [r.customer_id === '' ? null : r.customer_id, r.email, r.ads_consent]);
      await db.query(`INSERT INTO crm.customers (customer_id, email, ads_consent) VALUES ${values}`, params);
    },
    query: (sql) => db.query(sql),
    cleanup: () => db.drop(),
  };
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
