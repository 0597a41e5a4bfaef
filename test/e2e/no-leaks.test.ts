// A canary: recognisable PII and a recognisable access token are planted in the source data and the
// environment; after successful, failing, planned and CLI runs, neither may appear in any log line,
// any CLI output, any table of the state schema or any byte of the files audsync wrote. The hashes,
// and only the hashes, must have reached the platform.
// Google addresses: names and emails under the same rule; the region and postal code, which Google
// takes in plain text, are kept in the snapshot's address_key and nowhere else (docs/identity.md,
// "Google addresses and the snapshot").
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import type { InvocationResult } from '../../src/core/result.js';
import { runInvocation } from '../../src/runner/invocation.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createProject, expectedGoogle, googleDataManagerDriver, type ConformanceProject, type Member } from '../conformance/support.js';
import { captureLogger, dumpTables, findCanaries, rawFiles, runCli, type CliResult } from '../support/leaks.js';
import { emailHash, expectedHashes, TOKEN_ENV, type Customer } from '../support/project.js';

const CANARY_TOKEN = 'canary-token-XYZ-9f41c7d2e8b3a605';
const WRONG_CANARY_TOKEN = 'canary-token-WRONG-77d1e0c4b9a2';

// Raw, messy forms (mixed case, surrounding and inner whitespace) and their normalized twins.
const first: Customer[] = [
  { customer_id: 'K1', email: ' Canary.Person.7731@Example.COM ', ads_consent: true },
  { customer_id: 'K2', email: 'canary.person.7731@example.com', ads_consent: true }, // the normalized form of K1's
  { customer_id: 'K3', email: 'CANARY.Second.4409 @Example.org', ads_consent: true },
  { customer_id: 'K4', email: 'Canary.NoConsent.5512@Example.net', ads_consent: false }, // never sent
  { customer_id: 'K5', email: 'Canary.Invalid.6620@', ads_consent: true }, // invalid, never sent
];
const second: Customer[] = [
  ...first.filter((r) => r.customer_id !== 'K3'),
  { customer_id: 'K6', email: '\tCanary.Fourth.3391@EXAMPLE.com', ads_consent: true },
];
const third: Customer[] = [...second, { customer_id: 'K7', email: 'Canary.Fifth.1187@Example.COM  ', ads_consent: true }];
const everyRow = [...first, ...second, ...third];

// Every planted email, raw and normalized, plus the distinctive local parts on their own (a leak of
// part of an address is still a leak). findCanaries is case-insensitive.
const PII = [
  ...new Set(
    everyRow.flatMap((r) => {
      const raw = r.email!;
      const normalized = raw.replace(/\s+/g, '').toLowerCase();
      return [raw.trim(), normalized, normalized.split('@')[0]!];
    }),
  ),
];
const SECRETS = [CANARY_TOKEN, WRONG_CANARY_TOKEN, 'XYZ-9f41c7d2e8b3', 'WRONG-77d1e0c4b9'];
const CANARIES = [...PII, ...SECRETS];

let dir: string;
let sandbox: Sandbox;
const env = { ...process.env, [TOKEN_ENV]: CANARY_TOKEN };

async function writeCustomers(rows: Customer[]) {
  const field = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
  const lines = ['customer_id,email,ads_consent', ...rows.map((r) => `${r.customer_id},${field(r.email)},${r.ads_consent}`)];
  await writeFile(join(dir, 'data', 'customers.csv'), lines.join('\n') + '\n');
}

async function writeProject() {
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: canary
target: local
targets:
  local:
    warehouse: { type: duckdb, path: state.duckdb }
state_schema: audsync
defaults:
  guardrails: { max_remove_percent: 100, min_members: 0 }
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
syncs:
  - destination: meta
    audience: { name: "Canary buyers" }
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
}

/** One in-process run with fast retries, logging at trace level into `logs`. */
async function runInProcess(logs: ReturnType<typeof captureLogger>): Promise<InvocationResult> {
  const manifest = await loadProject(dir, { env });
  return runInvocation(manifest, { command: 'run', logger: logs.logger, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
}

const audienceHashes = () => {
  const audience = sandbox.meta.audiences().find((a) => a.name === 'Canary buyers');
  return audience ? sandbox.meta.members(audience.id, 'EMAIL') : [];
};

describe('the canary self-check: the detectors find a planted value', () => {
  it('in a log line, in a DuckDB table dump and in the raw bytes of a DuckDB file', async () => {
    // Logs: the PII canary through audsync's own logger (a token could be redacted by it once
    // registered, so the token is checked on the raw text the detector sees).
    const logs = captureLogger();
    logs.logger.info({ email: PII[0] }, `self-check ${PII[1]}`);
    expect(findCanaries(logs.text(), CANARIES)).toEqual(expect.arrayContaining([PII[0], PII[1]]));
    expect(findCanaries(`{"msg":"token ${CANARY_TOKEN}"}`, CANARIES)).toContain(CANARY_TOKEN);
    expect(findCanaries('nothing to see here', CANARIES)).toEqual([]);

    const scratch = await mkdtemp(join(tmpdir(), 'audsync-canary-selfcheck-'));
    try {
      const file = join(scratch, 'check.duckdb');
      const db = await DuckDBInstance.create(file);
      const c = await db.connect();
      await c.run(`CREATE SCHEMA audsync`);
      await c.run(`CREATE TABLE audsync.leak (v VARCHAR)`);
      await c.run(`INSERT INTO audsync.leak VALUES ('${PII[1]}'), ('${CANARY_TOKEN}')`);
      c.closeSync();
      db.closeSync();
      const dump = await dumpTables(file);
      expect(dump.tables).toEqual(['audsync.leak']);
      expect(findCanaries(dump.text, CANARIES)).toEqual(expect.arrayContaining([PII[1], CANARY_TOKEN]));
      const bytes = (await rawFiles(scratch, () => true)).map((f) => f.text).join('\n');
      expect(findCanaries(bytes, CANARIES)).toEqual(expect.arrayContaining([PII[1], CANARY_TOKEN]));
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('no raw or normalized email and no token leaves a run, except as hashes to the platform', () => {
  const logs = captureLogger('trace');
  const cli: { args: string[]; result: CliResult }[] = [];
  const results: InvocationResult[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audsync-canary-'));
    sandbox = await startSandbox({ meta: { tokens: [CANARY_TOKEN] } });
    await writeProject();

    // 1. A first successful sync.
    await writeCustomers(first);
    results.push(await runInProcess(logs));
    // 2. A failing sync: the platform answers 5xx until retries run out (2 attempts).
    await writeCustomers(second);
    sandbox.meta.failNext(2, 'error');
    results.push(await runInProcess(logs));
    // 3. The next run converges.
    results.push(await runInProcess(logs));
    // 4. The CLI, chatty: plan, run, status, and a run whose token Meta refuses.
    await writeCustomers(third);
    for (const [args, extra] of [
      [['plan', '--log-level', 'debug', '--json'], {}],
      [['run', '--log-level', 'debug', '--json'], {}],
      [['status', '--log-level', 'trace', '--json'], {}],
      [['run', '--log-level', 'trace', '--json', '--full-refresh'], { [TOKEN_ENV]: WRONG_CANARY_TOKEN }],
    ] as const) {
      cli.push({ args: [...args], result: await runCli(dir, [...args], { ...env, ...extra }) });
    }
  });

  afterAll(async () => {
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the runs did what the scenario says (so the checks below are not vacuous)', () => {
    expect(results.map((r) => r.status)).toEqual(['success', 'failed', 'success']);
    expect(results[1]!.syncs[0]!.error).toMatch(/gave up after 2 attempts/);
    expect(cli.map((c) => c.result.code)).toEqual([0, 0, 0, 1]);
    expect(JSON.parse(cli[0]!.result.stdout).syncs[0]).toMatchObject({ status: 'planned', added: 1 });
    expect(JSON.parse(cli[1]!.result.stdout).syncs[0]).toMatchObject({ status: 'success', added: 1 });
    expect(JSON.parse(cli[3]!.result.stdout).syncs[0].error).toMatch(/Meta rejected the access token/);
    // The logs were captured, down to the retry warnings.
    expect(logs.text()).toMatch(/request failed, retrying/);
    expect(logs.text()).toMatch(/sync committed/);
  });

  it('the hashes did reach the platform: the audience holds exactly the eligible members, hashed', () => {
    expect(audienceHashes()).toEqual(expectedHashes(third));
    expect(audienceHashes()).toContain(emailHash(' Canary.Person.7731@Example.COM '));
    expect(audienceHashes()).toContain(emailHash('Canary.Fifth.1187@Example.COM  '));
    expect(audienceHashes()).not.toContain(emailHash('CANARY.Second.4409 @Example.org'));
  });

  it('no canary in the captured trace-level logs of the in-process runs', () => {
    expect(findCanaries(logs.text(), CANARIES)).toEqual([]);
  });

  it('no canary in stdout, stderr or the --json output of the CLI at debug and trace level', () => {
    for (const { args, result } of cli) {
      expect(findCanaries(result.stdout, CANARIES), `stdout of ${args.join(' ')}`).toEqual([]);
      expect(findCanaries(result.stderr, CANARIES), `stderr of ${args.join(' ')}`).toEqual([]);
    }
    // The in-process results are what --json prints.
    expect(findCanaries(JSON.stringify(results), CANARIES)).toEqual([]);
  });

  it('no canary in any table of the state schema (every table dumped to text)', async () => {
    const dump = await dumpTables(join(dir, 'state.duckdb'));
    expect(dump.tables).toEqual(
      expect.arrayContaining(['audsync.audsync_runs', 'audsync.audsync_changes', 'audsync.audsync_snapshots', 'audsync.audsync_deliveries']),
    );
    expect(dump.text).toContain(emailHash('canary.person.7731@example.com')); // the dump holds the data
    expect(findCanaries(dump.text, CANARIES)).toEqual([]);
  });

  it('no canary in the raw bytes of any file audsync wrote (the state file and anything beside it)', async () => {
    const files = await rawFiles(dir, (path) => !path.startsWith('data'));
    const state = files.find((f) => f.path === 'state.duckdb');
    expect(state, 'state.duckdb was written').toBeDefined();
    // Strings in the state file are readable as bytes (the scan is not blind): the snapshot's hashes are there.
    expect(state!.text).toContain(emailHash('canary.person.7731@example.com'));
    for (const file of files) expect(findCanaries(file.text, CANARIES), file.path).toEqual([]);
  });
});

describe('a data error in the source must not carry PII into errors, logs or the audit tables', () => {
  const logs = captureLogger('trace');
  let result: InvocationResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audsync-canary-data-'));
    sandbox = await startSandbox({ meta: { tokens: [CANARY_TOKEN] } });
    await writeProject();
    // A messy CRM export: one row's consent flag is not a boolean, so DuckDB cannot read the file.
    await writeFile(join(dir, 'data', 'customers.csv'), 'customer_id,email,ads_consent\nK1," Canary.Person.7731@Example.COM ",maybe\n');
    result = await runInProcess(logs);
  });

  afterAll(async () => {
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the sync fails naming the model, and nothing is sent', () => {
    expect(result.status).toBe('failed');
    expect(result.syncs[0]!.error).toMatch(/model 'buyers'/);
    expect(sandbox.meta.requests.filter((r) => r.op === 'add' || r.op === 'remove')).toEqual([]);
  });

  // Regression: DuckDB's CSV conversion error quotes the offending source line ("Original Line:
  // K1," Canary.Person.7731@Example.COM ",maybe"); engine messages are now scrubbed against the SQL
  // that ran (src/warehouse/scrub.ts) before they reach errors, logs or audsync_runs.
  it('the error text, the logs and audsync_runs hold no raw email', async () => {
    expect(findCanaries(result.syncs[0]!.error ?? '', PII)).toEqual([]);
    expect(findCanaries(logs.text(), PII)).toEqual([]);
    const dump = await dumpTables(join(dir, 'state.duckdb'));
    expect(findCanaries(dump.text, PII)).toEqual([]);
  });
});

describe('Google addresses: names and emails only as hashes; the plain region and postal code only in address_key', () => {
  const logs = captureLogger('trace');
  let p: ConformanceProject;
  const people: Member[] = [
    { customer_id: 'G1', email: ' Canary.Gaddr.8812@Example.COM ', first_name: ' Canaryfirst ', last_name: "Zqxwy-O'Canary", zip: 'QX9 7ZZ', country: 'uk', ads_consent: true },
    { customer_id: 'G2', email: 'canary.gaddr.5531@example.org', first_name: 'Canarysecond', last_name: 'Vbnmcanary', zip: 'QX8 6YY', country: 'GB', ads_consent: true },
  ];
  // Every planted name and email, raw and normalized, and their distinctive parts.
  const PLANTED = ['Canaryfirst', 'Zqxwy', "O'Canary", 'zqxwyocanary', 'zqxwy-o', 'Canarysecond', 'Vbnmcanary', 'Canary.Gaddr.8812', 'canary.gaddr.5531', 'gaddr'];
  const POSTAL = ['QX9 7ZZ', 'QX8 6YY', 'QX7 5XX'];

  beforeAll(async () => {
    p = await createProject({ destinations: [{ name: 'google', platform: 'google_dm', audience: googleDataManagerDriver.audience }] });
    await p.write(people);
    await p.run({ logger: logs.logger });
    const moved = [{ ...people[0]!, zip: 'QX7 5XX' }]; // G1 moves, G2 is deleted
    await p.write(moved);
    await p.run({ logger: logs.logger });
    expect(googleDataManagerDriver.held(p.sandbox)).toEqual(expectedGoogle(moved)); // not vacuous: the addresses went and came
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('no name or email in the logs, in any table or in any byte of the files audsync wrote', async () => {
    expect(logs.text()).toMatch(/sync committed/); // the logs were captured
    expect(findCanaries(logs.text(), [...PLANTED, ...POSTAL])).toEqual([]);
    const dump = await dumpTables(join(p.dir, 'state.duckdb'));
    expect(findCanaries(dump.text, PLANTED)).toEqual([]);
    for (const file of await rawFiles(p.dir, (path) => !path.startsWith('data'))) expect(findCanaries(file.text, PLANTED), file.path).toEqual([]);
  });

  it('the postal code and region appear only inside the address keys of audsync_snapshots', async () => {
    const keys = (await p.query<{ address_key: string }>(`SELECT address_key FROM audsync.audsync_snapshots`)).map((r) => r.address_key);
    expect(keys).toEqual(expectedGoogle([{ ...people[0]!, zip: 'QX7 5XX' }]).address); // the current address only
    expect(keys[0]).toMatch(/^[0-9a-f]{64}\|[0-9a-f]{64}\|GB\|QX7 5XX$/);
    const dump = await dumpTables(join(p.dir, 'state.duckdb'));
    expect(findCanaries(dump.text, POSTAL)).toEqual(['QX7 5XX']);
    expect(findCanaries(dump.text.split(keys[0]!).join(''), POSTAL)).toEqual([]); // nowhere but in the key
  });
});
