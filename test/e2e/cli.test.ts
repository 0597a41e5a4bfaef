// What an orchestrator relies on, through the real binary (`node bin/audsync.js`): exit codes,
// exactly one JSON document on stdout with --json, logs on stderr only, clear messages without
// stack traces. Each subprocess costs about a second, so scenarios share projects where they can.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProject, expectedHashes, type Customer, type TestProject } from '../support/project.js';

const customers = (n: number, prefix = 'C'): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `${prefix}${i + 1}`, email: `Member.${prefix}${i + 1}@Example.com`, ads_consent: true }));

const CONTRACT_SYNC_FIELDS = [
  'sync',
  'model',
  'destination',
  'audience_id',
  'status',
  'members',
  'added',
  'removed',
  'changed',
  'failed',
  'invalid',
  'held_out',
  'duration_ms',
  'error',
] as const;

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

/** stdout must be exactly one JSON document. */
function oneJson(stdout: string): Record<string, any> {
  expect(stdout.trim(), 'stdout is not empty').not.toBe('');
  return JSON.parse(stdout) as Record<string, any>;
}

/** Every non-empty stderr line is a pino JSON log line. */
function pinoLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ level: expect.any(Number), time: expect.any(String), msg: expect.any(String) });
      return entry;
    });
}

/** A usage or configuration error: exit 2, one clear line on stderr, no stack trace, nothing ran. */
function expectUsageError(p: TestProject, r: { code: number; stdout: string; stderr: string }, message: string | RegExp) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^error: /);
  if (typeof message === 'string') expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_FRAME);
  expect(p.sandbox.meta.requests).toEqual([]); // nothing talked to the platform
  expect(existsSync(join(p.dir, 'state.duckdb'))).toBe(false); // nothing touched the warehouse
}

describe('run, plan, status, validate and compile on a healthy project with two syncs', () => {
  let p: TestProject;
  const first = [...customers(5), { customer_id: 'N1', email: 'no.consent@example.com', ads_consent: false }, { customer_id: 'I1', email: 'not-an-email', ads_consent: true }];

  beforeAll(async () => {
    // A second destination on the same simulator, so "per sync" means more than one.
    p = await createProject({ syncExtra: '  - destination: meta_b\n    audience: { name: "Other buyers" }' });
    await writeFile(
      join(p.dir, 'destinations', 'meta_b.yml'),
      `name: meta_b\ntype: meta_custom_audiences\nad_account_id: act_2000\naccess_token: \${AUDSYNC_TEST_META_TOKEN}\napi_base_url: ${p.sandbox.urlFor('meta')}\n`,
    );
    await p.writeCustomers(first);
  });
  afterAll(async () => {
    await p.cleanup();
  });

  it('run --json: exit 0, exactly one JSON document with the contract fields per sync; logs on stderr as pino JSON lines', async () => {
    const r = await p.cli(['run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = oneJson(r.stdout);
    expect(doc).toMatchObject({ invocation_id: expect.any(String), target: 'local', status: 'success' });
    expect(doc.invocation_id).not.toBe('');
    expect(doc.syncs.map((s: { sync: string }) => s.sync)).toEqual(['buyers__meta', 'buyers__meta_b']);
    for (const s of doc.syncs) {
      for (const field of CONTRACT_SYNC_FIELDS) expect(s, field).toHaveProperty(field);
      expect(s).toMatchObject({
        model: 'buyers',
        status: 'success',
        members: 5,
        added: 5,
        removed: 0,
        changed: 0,
        failed: 0,
        invalid: 1,
        held_out: 0,
        duration_ms: expect.any(Number),
        error: null,
      });
      expect(s.duration_ms).toBeGreaterThanOrEqual(0);
    }
    const [a, b] = doc.syncs;
    expect(a).toMatchObject({ destination: 'meta', audience_id: p.audienceId() });
    const other = p.sandbox.meta.audiences().find((x) => x.name === 'Other buyers')!;
    expect(b).toMatchObject({ destination: 'meta_b', audience_id: other.id });
    expect(p.audienceHashes()).toEqual(expectedHashes(first));

    // Logs: stderr only, one pino JSON object per line, carrying the invocation id.
    const logs = pinoLines(r.stderr);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => l.invocation_id === doc.invocation_id)).toBe(true);
    expect(logs.map((l) => l.msg)).toContain('sync committed');
  });

  it('human run names each sync and its status; a second run with no change reports +0 and sends nothing', async () => {
    const writes = p.writes().length;
    const r = await p.cli(['run']);
    expect(r.code, r.stderr).toBe(0);
    const line = (sync: string) => r.stdout.split('\n').find((l) => l.startsWith(`${sync} `));
    for (const sync of ['buyers__meta', 'buyers__meta_b']) {
      expect(line(sync), r.stdout).toMatch(/\bsuccess\b\s+5\s+\+0\s+-0\s+~0\b/);
    }
    expect(r.stdout).toMatch(/run success\s*$/);
    expect(p.writes().length).toBe(writes);
  });

  it('status lists every sync with its last run: success', async () => {
    const r = await p.cli(['status']);
    expect(r.code, r.stderr).toBe(0);
    for (const sync of ['buyers__meta', 'buyers__meta_b']) {
      expect(r.stdout.split('\n').find((l) => l.startsWith(`${sync} `)), r.stdout).toMatch(/\bsuccess\b.*members 5/);
    }
  });

  it("plan --json: exit 0, status 'planned' per sync with the delta, and sends nothing and records nothing", async () => {
    await p.writeCustomers([...first, ...customers(2, 'P')]);
    const writes = p.writes().length;
    const runs = await p.query(`SELECT count(*) AS n FROM audsync.audsync_runs`);
    const r = await p.cli(['plan', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = oneJson(r.stdout);
    expect(doc.status).toBe('planned');
    expect(doc.syncs).toHaveLength(2);
    for (const s of doc.syncs) expect(s).toMatchObject({ status: 'planned', members: 7, added: 2, removed: 0, error: null });
    expect(p.writes().length).toBe(writes);
    expect(p.audienceHashes()).toEqual(expectedHashes(first));
    expect(await p.query(`SELECT count(*) AS n FROM audsync.audsync_runs`)).toEqual(runs);
  });

  it('validate: exit 0 and the counts', async () => {
    const r = await p.cli(['validate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('valid: 1 models, 2 destinations, 2 syncs\n');
  });

  it("compile prints the SQL: the model's query and candidate table, a FULL OUTER JOIN with the snapshot, sha256(", async () => {
    const r = await p.cli(['compile', '--select', 'buyers']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("read_csv('data/customers.csv'");
    expect(r.stdout).toContain('"_audsync_candidate_buyers"');
    expect(r.stdout).toContain('FULL OUTER JOIN');
    expect(r.stdout).toContain('sha256(');
    expect(r.stdout).toContain('"audsync".audsync_snapshots');
    expect(r.stdout).toContain("sync_id = 'buyers__meta'");
    expect(r.stdout).toContain("sync_id = 'buyers__meta_b'");
  });
});

describe('exit 2: usage and configuration errors say what is wrong, on stderr, and nothing runs', () => {
  let p: TestProject;
  beforeAll(async () => {
    p = await createProject();
    await p.writeCustomers(customers(3));
  });
  afterAll(async () => {
    await p.cleanup();
  });

  it('an unknown flag', async () => {
    expectUsageError(p, await p.cli(['run', '--bogus']), "unknown option '--bogus'");
  });

  it('an unknown command', async () => {
    expectUsageError(p, await p.cli(['frobnicate']), "unknown command 'frobnicate'");
  });

  it('an unknown --select term, named', async () => {
    expectUsageError(p, await p.cli(['run', '--select', 'buyers,no_such_model']), /--select 'no_such_model' matches no model/);
  });

  it('--vars that is not a JSON object', async () => {
    expectUsageError(p, await p.cli(['run', '--vars', '[1, 2]']), '--vars must be a JSON object');
  });

  it('an unknown --target, with the known ones', async () => {
    expectUsageError(p, await p.cli(['run', '--target', 'nope']), /unknown target 'nope'.*local/);
  });

  // Product bug: commander's own parse errors (unknown option, unknown command, missing argument)
  // bypass printFailure in src/cli/main.ts, so with --json stdout is empty, not one JSON document.
  it('an unknown flag with --json still prints exactly one JSON document', async () => {
    const r = await p.cli(['run', '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(oneJson(r.stdout)).toMatchObject({ status: 'error' });
  });

  describe('a model file with an unknown key', () => {
    let original: string;
    const file = () => join(p.dir, 'models', 'buyers.yml');
    beforeAll(async () => {
      original = await readFile(file(), 'utf8');
      await writeFile(file(), original + 'colour: blue\n');
    });
    afterAll(async () => {
      await writeFile(file(), original);
    });

    it('names the file and the field', async () => {
      const r = await p.cli(['run']);
      expectUsageError(p, r, /models\/buyers\.yml(:\d+:\d+)? colour: unknown key 'colour'/);
      expect(r.stdout).toBe('');
    });

    it("with --json, stdout is exactly one JSON document: status 'error' and the issues", async () => {
      const r = await p.cli(['run', '--json']);
      expectUsageError(p, r, "unknown key 'colour'");
      const doc = oneJson(r.stdout);
      expect(doc.status).toBe('error');
      expect(doc.error.issues).toEqual([expect.objectContaining({ file: 'models/buyers.yml', path: 'colour', message: expect.stringContaining("unknown key 'colour'") })]);
    });
  });

  it('--help and --version exit 0', async () => {
    const help = await p.cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: audsync/);
    for (const command of ['validate', 'compile', 'plan', 'run', 'status', 'sandbox']) expect(help.stdout).toContain(`  ${command}`);
    const version = await p.cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('exit codes of runs that cannot or must not complete', () => {
  let p: TestProject | undefined;
  afterEach(async () => {
    await p?.cleanup();
    p = undefined;
  });

  it('exit 4: a guardrail blocks a run that would empty the audience; nothing is removed; --force sends it', async () => {
    p = await createProject({ defaults: '  guardrails: { max_remove_percent: 50 }' });
    const rows = customers(8);
    await p.writeCustomers(rows);
    expect((await p.run()).status).toBe('success');
    expect(p.audienceHashes()).toHaveLength(8);

    await p.writeCustomers([]); // a broken upstream table
    const blocked = await p.cli(['run', '--json']);
    expect(blocked.code, blocked.stderr).toBe(4);
    const doc = oneJson(blocked.stdout);
    expect(doc.status).toBe('blocked');
    expect(doc.syncs[0]).toMatchObject({ status: 'blocked', members: 0 });
    expect(doc.syncs[0].error).toMatch(/would remove 8 of 8 members \(100\.0%\), above max_remove_percent 50/);
    expect(p.writes().filter((w) => w.op === 'remove')).toEqual([]);
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
    expect(await p.query(`SELECT status FROM audsync.audsync_runs ORDER BY started_at`)).toEqual([{ status: 'success' }, { status: 'blocked' }]);

    const forced = await p.cli(['run', '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(oneJson(forced.stdout).syncs[0]).toMatchObject({ status: 'success', removed: 8, failed: 0 });
    expect(p.writes().filter((w) => w.op === 'remove' && w.status === 200).reduce((n, w) => n + w.rows, 0)).toBe(8);
    expect(p.audienceHashes()).toEqual([]);
  });

  it('exit 1: a model whose SQL is broken fails naming the model; nothing is sent', async () => {
    p = await createProject();
    await p.writeCustomers(customers(3));
    const file = join(p.dir, 'models', 'buyers.yml');
    const yaml = await readFile(file, 'utf8');
    await writeFile(file, yaml.replace('SELECT customer_id, email,', 'SELECT customer_id, no_such_column AS email,'));
    const r = await p.cli(['run', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = oneJson(r.stdout);
    expect(doc.status).toBe('failed');
    expect(doc.syncs[0]).toMatchObject({ sync: 'buyers__meta', status: 'failed' });
    expect(doc.syncs[0].error).toMatch(/^model 'buyers': /);
    expect(doc.syncs[0].error).toContain('no_such_column');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(p.writes()).toEqual([]);
  });

  it('exit 1: a duplicate member key fails naming the model and the key', async () => {
    p = await createProject();
    await p.writeCustomers([...customers(3), { customer_id: 'C2', email: 'other@example.com', ads_consent: true }]);
    const r = await p.cli(['run']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^buyers__meta\s+failed\b/m);
    expect(r.stdout).toContain("model 'buyers': key column 'customer_id' is not unique: 'C2' (2 rows)");
    expect(r.stdout).toMatch(/run failed\s*$/);
    expect(p.writes()).toEqual([]);
  });

  it('exit 5: another process holds the DuckDB file open; clear message, nothing sent', async () => {
    p = await createProject();
    await p.writeCustomers(customers(3));
    expect((await p.run()).status).toBe('success');
    const writes = p.writes().length;

    const db = await DuckDBInstance.create(join(p.dir, 'state.duckdb')); // a read-write open takes DuckDB's file lock
    const held = await db.connect();
    let r: { code: number; stdout: string; stderr: string };
    try {
      await p.writeCustomers(customers(4));
      r = await p.cli(['run', '--json']);
    } finally {
      held.closeSync();
      db.closeSync();
    }
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/^error: the DuckDB file state\.duckdb is in use by another process/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(JSON.stringify(oneJson(r.stdout))).toContain('in use by another process');
    expect(p.writes().length).toBe(writes);
  });

  it('exit 1: Meta refuses the access token; the error says so and never prints the token', async () => {
    p = await createProject();
    await p.writeCustomers(customers(3));
    const wrong = 'wrong-token-3f9d2c81a7b6e5';
    const r = await p.cli(['run', '--json', '--log-level', 'debug'], { AUDSYNC_TEST_META_TOKEN: wrong });
    expect(r.code, r.stderr).toBe(1);
    const doc = oneJson(r.stdout);
    expect(doc.syncs[0]).toMatchObject({ status: 'failed' });
    expect(doc.syncs[0].error).toMatch(/^Meta rejected the access token for ad account act_1000/);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stdout + r.stderr).not.toContain('3f9d2c81a7b6');
    expect(p.writes()).toEqual([]);
    const [run] = await p.query<{ status: string; error_message: string }>(`SELECT status, error_message FROM audsync.audsync_runs`);
    expect(run!.status).toBe('failed');
    expect(run!.error_message).toMatch(/Meta rejected the access token/);
    expect(run!.error_message).not.toContain(wrong);
  });
});
