// The bad-input matrix (issue 6): every case goes through the real CLI (`node bin/audsync.js`) and
// must give one clear message that names the file, field or model and says how to fix it, the
// documented exit code (contract.md: 2 for usage and configuration, 1 for a model or warehouse that
// fails at run time), no stack trace unless --log-level debug, and nothing changed in the warehouse
// or at the destination.
//
// Configuration and usage cases run on a fresh project: the DuckDB file must not even be created,
// and the simulator must see no request. Run-time cases first sync the project, then break it: the
// snapshot and the audience must be exactly as before, and the failure must be in audsync_runs.
// Cases already covered elsewhere at the unit level (test/config/*) are repeated here end to end.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, type Customer, type TestProject } from '../support/project.js';
import { spawnCli } from './helpers.js';

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;
const LITERAL_TOKEN = 'EAABsbCS1iHgBAKZCZBnqZAl0pW4w9secretZDZD';

type Edit = (p: TestProject) => Promise<void>;

interface Case {
  name: string;
  /** Changes the project before the command runs. */
  edit?: Edit;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** What the one message must say: the problem, and where (file, field or model). */
  message: RegExp;
  /** How to fix it, somewhere in the message or its hint. */
  fix: RegExp;
  /** Text that must appear nowhere (a secret). */
  never?: string;
  /** --project-dir, when not the project's own. */
  dir?: string;
}

const file = (p: TestProject, name: string) => join(p.dir, name);
const rewrite =
  (name: string, change: (text: string) => string): Edit =>
  async (p) => {
    const text = await readFile(file(p, name), 'utf8');
    const next = change(text);
    if (next === text) throw new Error(`the edit of ${name} changed nothing`);
    await writeFile(file(p, name), next);
  };
const append = (name: string, yaml: string): Edit => rewrite(name, (t) => `${t}${yaml}\n`);
const replace = (name: string, from: string | RegExp, to: string): Edit => rewrite(name, (t) => t.replace(from, to));
const put = (name: string, text: string): Edit => async (p) => writeFile(file(p, name), text);
const both =
  (...edits: Edit[]): Edit =>
  async (p) => {
    for (const e of edits) await e(p);
  };

const PROJECT = 'audsync.yml';
const MODEL = 'models/buyers.yml';
const DEST = 'destinations/meta.yml';

/** Usage and configuration errors: exit 2, before anything runs. */
const CONFIG_CASES: Case[] = [
  // audsync.yml
  {
    name: 'malformed YAML in audsync.yml',
    edit: replace(PROJECT, 'state_schema: audsync', 'state_schema: [audsync'),
    message: /^error: audsync\.yml:\d+:\d+: malformed YAML: /,
    fix: /fix the syntax here/,
  },
  {
    name: 'an unknown key in audsync.yml',
    edit: append(PROJECT, 'stat_schema: audsync2'),
    message: /^error: audsync\.yml:\d+:\d+ stat_schema: unknown key 'stat_schema'/,
    fix: /did you mean 'state_schema'|known keys/,
  },
  {
    name: 'a wrong type in defaults',
    edit: replace(PROJECT, 'defaults:\n', 'defaults:\n  max_attempts: five\n'),
    message: /^error: audsync\.yml:\d+:\d+ defaults\.max_attempts: .*number/,
    fix: /number/,
  },
  {
    name: 'an oversized percentage in a guardrail',
    edit: replace(PROJECT, 'max_remove_percent: 100', 'max_remove_percent: 250'),
    message: /^error: audsync\.yml:\d+:\d+ defaults\.guardrails\.max_remove_percent: .*100/,
    fix: /100/,
  },
  {
    name: 'a state_schema that is not a SQL-safe name',
    edit: replace(PROJECT, 'state_schema: audsync', 'state_schema: audsync-state'),
    message: /^error: audsync\.yml:\d+:\d+ state_schema: /,
    fix: /lowercase letters, digits and underscores/,
  },
  {
    name: 'a default_country that is not an ISO code',
    edit: replace(PROJECT, 'defaults:\n', 'defaults:\n  default_country: usa\n'),
    message: /^error: audsync\.yml:\d+:\d+ defaults\.default_country: /,
    fix: /ISO 3166-1 alpha-2 country code in capitals, such as US/,
  },
  {
    name: 'an unknown warehouse type',
    edit: replace(PROJECT, 'type: duckdb', 'type: oracle'),
    message: /^error: audsync\.yml:\d+:\d+ targets\.local\.warehouse\.type: unknown warehouse type 'oracle'/,
    fix: /known types: .*duckdb/,
  },
  {
    name: 'a warehouse option of the wrong type',
    edit: replace(PROJECT, 'path: state.duckdb', 'path: state.duckdb, threads: many'),
    message: /^error: audsync\.yml:\d+:\d+ targets\.local\.warehouse\.threads: /,
    fix: /number/,
  },
  {
    name: 'an unset environment variable in the warehouse',
    edit: replace(PROJECT, '{ type: duckdb, path: state.duckdb }', '{ type: postgres, connection: "${AUDSYNC_NO_SUCH_DATABASE_URL}" }'),
    message: /^error: audsync\.yml:\d+:\d+ targets\.local\.warehouse\.connection: .*AUDSYNC_NO_SUCH_DATABASE_URL.*not set/,
    fix: /set AUDSYNC_NO_SUCH_DATABASE_URL in the environment/,
  },
  {
    name: 'an unknown target in AUDSYNC_TARGET',
    env: { AUDSYNC_TARGET: 'prod' },
    message: /^error: audsync\.yml(:\d+:\d+)? targets: unknown target 'prod' \(from AUDSYNC_TARGET\)/,
    fix: /the targets in audsync\.yml are: local/,
  },
  // models/
  {
    name: 'malformed YAML in a model file',
    edit: replace(MODEL, 'identifiers: { email: email }', 'identifiers: { email: email'),
    message: /^error: models\/buyers\.yml:\d+:\d+: malformed YAML: /,
    fix: /fix the syntax here/,
  },
  {
    name: 'an unknown key inside a sync',
    edit: replace(MODEL, '    audience: {', '    audiance: { name: x }\n    audience: {'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.0\.audiance: unknown key 'audiance'/,
    fix: /did you mean 'audience'/,
  },
  {
    name: 'a wrong type in a model (tags as text)',
    edit: replace(MODEL, 'key: customer_id', 'key: customer_id\ntags: vip'),
    message: /^error: models\/buyers\.yml:\d+:\d+ tags: expected a list, got a string/,
    fix: /write it as a list, e\.g\. \[first, second\]/,
  },
  {
    name: 'a model without a key',
    edit: replace(MODEL, 'key: customer_id\n', ''),
    message: /^error: models\/buyers\.yml(:\d+:\d+)? key: /,
    fix: /add key: /,
  },
  {
    name: 'an unknown identifier kind',
    edit: replace(MODEL, 'identifiers: { email: email }', 'identifiers: { emial: email }'),
    message: /^error: models\/buyers\.yml:\d+:\d+ identifiers\.emial: unknown identifier kind 'emial'/,
    fix: /did you mean 'email'/,
  },
  {
    name: 'a model without identifiers',
    edit: replace(MODEL, 'identifiers: { email: email }', 'identifiers: {}'),
    message: /^error: models\/buyers\.yml:\d+:\d+ identifiers: /,
    fix: /map at least one identifier kind to a column, e.g. email: email/,
  },
  {
    name: 'a sync to a destination that does not exist',
    edit: replace(MODEL, '- destination: meta', '- destination: meta_main'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.0\.destination: no destination named 'meta_main'/,
    fix: /destinations: meta/,
  },
  {
    name: 'duplicate sync ids',
    edit: append(MODEL, '  - destination: meta\n    audience: { name: "Again" }'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.1: sync id 'buyers__meta' is also declared at models\/buyers\.yml syncs\.0/,
    fix: /give one of them a different name/,
  },
  {
    name: 'two models with one name',
    edit: async (p) => writeFile(file(p, 'models/buyers_copy.yml'), await readFile(file(p, MODEL), 'utf8')),
    message: /^error: models\/buyers_copy\.yml:\d+:\d+ name: model name 'buyers' is also used by models\/buyers\.yml/,
    fix: /names must be unique/,
  },
  {
    name: 'a model name that is not SQL-safe',
    edit: replace(MODEL, 'name: buyers', 'name: Recent-Buyers'),
    message: /^error: models\/buyers\.yml:\d+:\d+ name: /,
    fix: /lowercase letters, digits and underscores/,
  },
  {
    name: 'an audience with both an id and a name',
    edit: replace(MODEL, 'audience: { name: "Recent buyers" }', 'audience: { id: "123", name: "Recent buyers" }'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.0\.audience: /,
    fix: /give exactly one of id .* or name/,
  },
  {
    name: 'an oversized audience id written as a YAML number',
    edit: replace(MODEL, 'audience: { name: "Recent buyers" }', 'audience: { id: 23851234567890123 }'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.0\.audience\.id: this id is too long to be read exactly as a YAML number/,
    fix: /write it in quotes, e\.g\. id: "23851234567890123"/,
  },
  {
    name: 'a SQL file that does not exist',
    edit: replace(MODEL, /sql: \|\n(  .*\n)+/, 'sql: buyers.sql\n'),
    message: /^error: models\/buyers\.yml:\d+:\d+ sql: SQL file models\/buyers\.sql not found/,
    fix: /create it beside this file or write the query inline/,
  },
  {
    name: 'an undefined var in the SQL',
    edit: replace(MODEL, 'FROM read_csv', "FROM /* {{ var('window_days') }} */ read_csv"),
    message: /^error: models\/buyers\.yml:\d+:\d+ sql: model 'buyers': var 'window_days' is not defined/,
    fix: /add it under vars: in audsync\.yml, pass --vars/,
  },
  {
    name: 'a ref to a model that does not exist',
    edit: replace(MODEL, 'FROM read_csv', "FROM /* {{ ref('customers') }} */ read_csv"),
    message: /^error: models\/buyers\.yml:\d+:\d+ sql: model 'buyers': ref\('customers'\) names no model/,
    fix: /there is no other model yet; add models\/customers\.yml/,
  },
  {
    name: 'a holdout percentage out of range',
    edit: replace(MODEL, 'consent: ads_consent', 'consent: ads_consent\nholdout: { percent: 150, salt: q4 }'),
    message: /^error: models\/buyers\.yml:\d+:\d+ holdout\.percent: must be less than 100/,
    fix: /less than 100/,
  },
  {
    name: 'max_attempts of zero on a sync',
    edit: replace(MODEL, '    audience: { name: "Recent buyers" }', '    audience: { name: "Recent buyers" }\n    max_attempts: 0'),
    message: /^error: models\/buyers\.yml:\d+:\d+ syncs\.0\.max_attempts: must be at least 1/,
    fix: /at least 1/,
  },
  // destinations/
  {
    name: 'malformed YAML in a destination file',
    edit: replace(DEST, 'type: meta_custom_audiences', 'type: "meta_custom_audiences'),
    message: /^error: destinations\/meta\.yml:\d+:\d+: malformed YAML: /,
    fix: /fix the syntax here/,
  },
  {
    name: 'an unknown key in a destination',
    edit: append(DEST, 'acess_token: x'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ acess_token: unknown key 'acess_token'/,
    fix: /did you mean 'access_token'/,
  },
  {
    name: 'a destination without a type',
    edit: replace(DEST, 'type: meta_custom_audiences\n', ''),
    message: /^error: destinations\/meta\.yml(:\d+:\d+)? type: missing required field 'type'/,
    fix: /add type: one of .*meta_custom_audiences/,
  },
  {
    name: 'an unknown destination type',
    edit: replace(DEST, 'type: meta_custom_audiences', 'type: myspace_audiences'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ type: unknown destination type 'myspace_audiences'/,
    fix: /known types: .*meta_custom_audiences/,
  },
  {
    name: 'a literal secret',
    edit: replace(DEST, /access_token: .*/, `access_token: ${LITERAL_TOKEN}`),
    message: /^error: destinations\/meta\.yml:\d+:\d+ access_token: /,
    fix: /\$\{META_ACCESS_TOKEN\}|\$\{[A-Z_]+\}/,
    never: LITERAL_TOKEN,
  },
  {
    name: 'a secret whose environment variable is not set',
    edit: replace(DEST, /access_token: .*/, 'access_token: ${AUDSYNC_NO_SUCH_TOKEN}'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ access_token: .*AUDSYNC_NO_SUCH_TOKEN.*not set/,
    fix: /set AUDSYNC_NO_SUCH_TOKEN in the environment/,
  },
  {
    name: 'plain http to a remote host',
    edit: replace(DEST, /api_base_url: .*/, 'api_base_url: http://graph.example.com/meta'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ api_base_url: plain http is allowed only to loopback/,
    fix: /use https/,
  },
  {
    name: 'a base URL carrying credentials',
    edit: replace(DEST, /api_base_url: .*/, 'api_base_url: https://user:hunter2pass@proxy.example.com/meta'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ api_base_url: must not carry a user name or password/,
    fix: /credentials belong in the secret fields/,
    never: 'hunter2pass',
  },
  {
    name: 'an ad account id in the wrong format',
    edit: replace(DEST, 'ad_account_id: act_1000', 'ad_account_id: "1000"'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ ad_account_id: /,
    fix: /an ad account id such as 'act_1234567890'/,
  },
  {
    name: 'a number where text is expected',
    edit: replace(DEST, 'ad_account_id: act_1000', 'ad_account_id: 1000'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ ad_account_id: expected a string, got a whole number/,
    fix: /write it in quotes/,
  },
  {
    name: 'an oversized concurrency limit',
    edit: append(DEST, 'limits: { concurrency: 500 }'),
    message: /^error: destinations\/meta\.yml:\d+:\d+ limits\.concurrency: .*64/,
    fix: /64/,
  },
  {
    name: 'two destinations with one name',
    edit: async (p) => writeFile(file(p, 'destinations/meta_copy.yml'), await readFile(file(p, DEST), 'utf8')),
    message: /^error: destinations\/meta_copy\.yml:\d+:\d+ name: destination name 'meta' is also used by destinations\/meta\.yml/,
    fix: /names must be unique/,
  },
  // the command line
  {
    name: 'a --select that matches no model',
    args: ['run', '--select', 'byers'],
    message: /^error: --select 'byers' matches no model/,
    fix: /buyers/,
  },
  {
    name: 'a --select of an unknown tag',
    args: ['plan', '--select', 'tag:vip'],
    message: /^error: --select 'tag:vip' matches no model, tag, destination or sync; models: buyers/,
    fix: /hint: use model names, tag:<tag>, destination:<name> or sync ids/,
  },
  {
    name: 'an unknown flag',
    args: ['plan', '--dry-run'],
    message: /^error: unknown option '--dry-run'/,
    fix: /--help|Usage: audsync plan/,
  },
  {
    name: '--vars that is not JSON',
    args: ['run', '--vars', 'window=7'],
    message: /^error: --vars /,
    fix: /JSON object/,
  },
  {
    name: 'an unknown --log-level',
    args: ['run', '--log-level', 'loud'],
    message: /^error: --log-level must be one of /,
    fix: /trace, debug, info, warn, error/,
  },
  {
    name: 'a --wait that is not a number of seconds',
    args: ['run', '--wait', 'soon'],
    message: /^error: --wait takes a number of seconds/,
    fix: /e\.g\. --wait 600/,
  },
  {
    name: 'a --project-dir without audsync.yml',
    args: ['validate'],
    dir: '/nonexistent-audsync-project',
    message: /^error: audsync\.yml: no audsync\.yml in \/nonexistent-audsync-project/,
    fix: /run `audsync init` or pass --project-dir/,
  },
];

const base: Customer[] = [
  { customer_id: 'C1', email: 'one@example.com', ads_consent: true },
  { customer_id: 'C2', email: 'two@example.com', ads_consent: true },
  { customer_id: 'C3', email: 'three@example.com', ads_consent: true },
];

/** Model and warehouse failures at run time: exit 1, the sync fails naming the model, nothing sent. */
const RUNTIME_CASES: Case[] = [
  {
    name: 'the key column is missing from the query',
    edit: replace(MODEL, 'key: customer_id', 'key: id'),
    message: /model 'buyers': key names column 'id', but the query returns no such column \(it returns: customer_id, email, ads_consent\)/,
    fix: /fix models\/buyers\.yml or the query/,
  },
  {
    name: 'an identifier column is missing from the query',
    edit: replace(MODEL, 'identifiers: { email: email }', 'identifiers: { email: mail }'),
    message: /model 'buyers': identifiers\.email names column 'mail', but the query returns no such column/,
    fix: /fix models\/buyers\.yml/,
  },
  {
    name: 'duplicate member keys',
    edit: async (p) => p.writeCustomers([...base, { customer_id: 'C2', email: 'other@example.com', ads_consent: true }]),
    message: /model 'buyers': key column 'customer_id' is not unique: 'C2' \(2 rows\)/,
    fix: /the query must return one row per customer_id; aggregate or use DISTINCT/,
  },
  {
    name: 'NULL member keys',
    edit: async (p) => p.writeCustomers([...base, { customer_id: '', email: 'nokey@example.com', ads_consent: true }]),
    message: /model 'buyers': 1 of 4 rows have a NULL key \(column 'customer_id'\)/,
    fix: /WHERE customer_id IS NOT NULL/,
  },
  {
    name: 'a SQL syntax error',
    edit: replace(MODEL, 'SELECT customer_id,', 'SELEC customer_id,'),
    message: /model 'buyers': its SQL failed on duckdb: .*syntax error/i,
    fix: /fix the query in models\/buyers\.yml; `audsync compile` prints the SQL that ran/,
  },
  {
    name: 'a SQL error naming a column that does not exist',
    edit: replace(MODEL, 'SELECT customer_id, email,', 'SELECT customer_id, e_mail AS email,'),
    message: /model 'buyers': its SQL failed on duckdb: .*e_mail/,
    fix: /fix the query in models\/buyers\.yml/,
  },
  {
    name: 'a source table that does not exist',
    edit: replace(MODEL, /FROM read_csv\([\s\S]*?'BOOLEAN'\}\)/, 'FROM crm.customers'),
    message: /model 'buyers': its SQL failed on duckdb: .*crm\.customers|customers.*does not exist/,
    fix: /fix the query in models\/buyers\.yml/,
  },
];

/** Cases run on their own (they need a project shape the others do not). */
describe('bad input through the CLI: usage and configuration errors exit 2 and change nothing', () => {
  for (const c of CONFIG_CASES) {
    it(c.name, async () => {
      const p = await createProject();
      try {
        await p.writeCustomers(base);
        await c.edit?.(p);
        const args = c.args ?? ['run'];
        const r = c.dir ? await spawnCli(c.dir, { ...p.env, ...c.env }, args).done : await p.cli(args, c.env);
        expect(r.code, r.stderr).toBe(2);
        const [first, ...rest] = r.stderr.trimEnd().split('\n');
        expect(first, r.stderr).toMatch(c.message);
        expect(r.stderr).toMatch(c.fix);
        // One problem, one message: at most a hint line (commander follows a bad flag with the usage text).
        const usage = rest.findIndex((l) => l.startsWith('Usage: '));
        expect((usage >= 0 ? rest.slice(0, usage) : rest).filter((l) => !l.startsWith('hint: ') && l.trim() !== ''), r.stderr).toEqual([]);
        expect(r.stderr).not.toMatch(STACK_FRAME);
        if (c.never) expect(r.stdout + r.stderr).not.toContain(c.never);
        expect(r.stdout).toBe('');
        expect(existsSync(join(p.dir, 'state.duckdb')), 'the warehouse was opened').toBe(false);
        expect(p.sandbox.meta.requests, 'the destination was called').toEqual([]);
      } finally {
        await p.cleanup();
      }
    });
  }
});

describe('bad input through the CLI: a broken model fails its sync (exit 1) and changes nothing', () => {
  let p: TestProject;
  let snapshot: unknown[];
  let audience: string[];
  let pristine: Record<string, string>;
  const read = () => p.query(`SELECT member_key, email_hash, fingerprint, last_synced_at FROM audsync.audsync_snapshots ORDER BY member_key`);

  beforeAll(async () => {
    p = await createProject();
    await p.writeCustomers(base);
    expect((await p.run()).status).toBe('success');
    snapshot = await read();
    audience = p.audienceHashes();
    pristine = { [MODEL]: await readFile(file(p, MODEL), 'utf8'), data: await readFile(file(p, 'data/customers.csv'), 'utf8') };
  });
  afterAll(async () => {
    await p.cleanup();
  });

  for (const c of RUNTIME_CASES) {
    it(c.name, async () => {
      await writeFile(file(p, MODEL), pristine[MODEL]!);
      await writeFile(file(p, 'data/customers.csv'), pristine.data!);
      await c.edit!(p);
      const writes = p.writes().length;
      const runs = (await p.query<{ n: number }>(`SELECT count(*) AS n FROM audsync.audsync_runs`))[0]!.n;
      const r = await p.cli(['run', '--json']);
      expect(r.code, r.stderr).toBe(1);
      const doc = JSON.parse(r.stdout) as { status: string; syncs: { status: string; error: string }[] };
      expect(doc.status).toBe('failed');
      expect(doc.syncs[0]!.status).toBe('failed');
      expect(doc.syncs[0]!.error).toMatch(/^model 'buyers': /);
      expect(doc.syncs[0]!.error).toMatch(c.message);
      expect(doc.syncs[0]!.error).toMatch(c.fix);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      // Nothing changed: no request, the same audience and snapshot; the failure is on record.
      expect(p.writes()).toHaveLength(writes);
      expect(p.audienceHashes()).toEqual(audience);
      expect(await read()).toEqual(snapshot);
      const recorded = await p.query<{ status: string; error_message: string }>(`SELECT status, error_message FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1`);
      expect((await p.query<{ n: number }>(`SELECT count(*) AS n FROM audsync.audsync_runs`))[0]!.n).toBe(runs + 1);
      expect(recorded[0]).toMatchObject({ status: 'failed', error_message: expect.stringMatching(c.message) });
      // The human form says the same in one line per sync.
      const human = await p.cli(['run']);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/^buyers__meta\s+failed\b/m);
      expect(human.stdout).toContain(doc.syncs[0]!.error.split(' (')[0]!);
    });
  }
});

describe('bad input through the CLI: a warehouse that cannot be reached', () => {
  it('Postgres refusing connections: exit 1, the host named, the password never shown, nothing sent', async () => {
    const p = await createProject();
    try {
      await replace(PROJECT, '{ type: duckdb, path: state.duckdb }', '{ type: postgres, connection: "${AUDSYNC_BAD_PG_URL}" }')(p);
      const r = await p.cli(['run'], { AUDSYNC_BAD_PG_URL: 'postgres://audsync:s3cretPassw0rd@127.0.0.1:1/analytics' });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: postgres: cannot connect to 127\.0\.0\.1:1\/analytics as audsync: /m);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stdout + r.stderr).not.toContain('s3cretPassw0rd');
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(p.sandbox.meta.requests).toEqual([]);
    } finally {
      await p.cleanup();
    }
  });

  it('a DuckDB path whose folder cannot be created: exit 1, the path named, nothing sent', async () => {
    const p = await createProject();
    try {
      await writeFile(file(p, 'blocker'), 'a file, not a folder');
      await replace(PROJECT, 'path: state.duckdb', 'path: blocker/state.duckdb')(p);
      const r = await p.cli(['run']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: duckdb: cannot open blocker\/state\.duckdb: its folder cannot be created \(EEXIST\)$/m);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(p.sandbox.meta.requests).toEqual([]);
    } finally {
      await p.cleanup();
    }
  });
});

describe('stack traces', () => {
  it('appear with --log-level debug, and only then', async () => {
    const p = await createProject();
    try {
      await replace(PROJECT, 'type: duckdb', 'type: oracle')(p);
      const quiet = await p.cli(['run']);
      const loud = await p.cli(['run', '--log-level', 'debug']);
      expect(quiet.code).toBe(2);
      expect(loud.code).toBe(2);
      expect(quiet.stderr).not.toMatch(STACK_FRAME);
      expect(loud.stderr).toMatch(STACK_FRAME);
      expect(loud.stderr.split('\n')[0]).toBe(quiet.stderr.split('\n')[0]); // the same message first
    } finally {
      await p.cleanup();
    }
  });
});

it('the matrix has at least 40 cases', () => {
  expect(CONFIG_CASES.length + RUNTIME_CASES.length + 2).toBeGreaterThanOrEqual(40);
});
