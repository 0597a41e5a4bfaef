// Identity end to end: a model mapping every identifier kind, synced to the Meta simulator (given as
// api_base_url) from a CSV read by DuckDB, state in a DuckDB file. What Meta receives must be one
// multi-key row per member whose hashes are what the reference normalization (test/identity/
// reference.ts) and SHA-256 make of the raw values (a country spelled out, an already hashed last
// name passed through); MADID and EXTERN_ID plain; invalid identifiers
// counted per kind, the same in plan and in audsync_invalid_identifiers; no raw identifier stored;
// removals of changed and leaving members, and the dead letter for a plain-only leaver.
import { queryDuckDbFile } from '../support/duckdb.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { InvocationResult } from '../../src/core/result.js';
import { runInvocation } from '../../src/runner/invocation.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { SimRequest } from '../../src/sandbox/simulator.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import * as ref from '../identity/reference.js';

const TOKEN_ENV = 'AUDSYNC_TEST_IDENTITY_META_TOKEN';
const KINDS = ['email', 'phone', 'first_name', 'last_name', 'zip', 'city', 'state', 'country', 'maid', 'external_id'] as const;
type Kind = (typeof KINDS)[number];
/** Meta's multi-key schema key per kind (platforms/meta/payload.ts, destination-apis.md §1). */
const KEY: Record<Kind, string> = {
  email: 'EMAIL', phone: 'PHONE', first_name: 'FN', last_name: 'LN', zip: 'ZIP', city: 'CT', state: 'ST', country: 'COUNTRY', maid: 'MADID', external_id: 'EXTERN_ID',
};

type Row = { id: string; consent: boolean } & Partial<Record<Kind, string>>;

const MADID_A = '6D92078A-8246-4BA4-AE5B-76104861E7DC';
const MADID_D = 'AABBCCDD-1111-4222-8333-444455556666';
const MADID_E = '0f0e0d0c-0b0a-4998-8776-655443322110';

const A: Row = {
  id: 'm01', consent: true, email: ' Ana.Lopez@Example.COM ', phone: '(415) 555-0134', first_name: ' Ana ', last_name: "López-O'Brien",
  zip: '94105-1234', city: 'San Francisco', state: 'CA', country: ' us ', maid: MADID_A, external_id: ' crm-001 ',
};
/** An invalid email but a valid phone: sent, on its phone; its country spelled out ('United Kingdom' is GB, never 'un'). */
const B: Row = { id: 'm02', consent: true, email: 'bo at example', phone: '+44 20 7946 0958', first_name: 'Bo', country: 'United Kingdom' };
/** No valid match identifier at all: counted invalid, never sent. */
const C: Row = { id: 'm03', consent: true, email: 'nope', phone: '123', first_name: 'Cy', zip: '10001' };
/** Only a MADID: later deleted from the source (dead letter). */
const D: Row = { id: 'm04', consent: true, maid: MADID_D };
/** Only a MADID: later loses consent (removed with its MADID recovered). */
const E: Row = { id: 'm05', consent: true, maid: MADID_E };
/** An already hashed last name (64 hex, in capitals, padded): sent as it is, lowercased, never hashed twice. */
const LN_F = ref.sha256('smith');
/** A British national number, read with its country ('UK' is GB); later the phone changes. */
const F: Row = { id: 'm06', consent: true, email: 'fay@example.org', phone: '020 7946 0018', last_name: ` ${LN_F.toUpperCase()} `, country: 'UK' };
/** No consent: never sent, not counted invalid. */
const G: Row = { id: 'm07', consent: false, email: 'gus@example.com', phone: '+1 212 555 0199' };
/** The opted-out all-zero MADID and a blank external id: invalid member; the blank is not even present. */
const H: Row = { id: 'm08', consent: true, maid: '00000000-0000-0000-0000-000000000000', external_id: '   ' };

const FIRST = [A, B, C, D, E, F, G, H];

/** The reference output for a member: what Meta must receive per schema key ('' for none). */
function expectedRow(r: Row): Record<string, string> {
  const region = ref.rowRegion(r.country ?? null, 'US');
  // Meta's rules (platforms/meta/capabilities.ts): MADID and EXTERN_ID plain, the rest hashed
  const rules: Record<Kind, [string, 'sha256' | 'plain']> = {
    email: ['email', 'sha256'], phone: ['phone_digits', 'sha256'], first_name: ['name', 'sha256'], last_name: ['name', 'sha256'], zip: ['zip', 'sha256'],
    city: ['city', 'sha256'], state: ['state', 'sha256'], country: ['country_lower', 'sha256'], maid: ['maid', 'plain'], external_id: ['trimmed', 'plain'],
  };
  return Object.fromEntries(
    KINDS.map((k) => {
      const [normalizer, encoding] = rules[k];
      return [KEY[k], ref.encode(ref.normalize(normalizer, encoding, r[k] ?? null, { region }), encoding) ?? ''];
    }),
  );
}

// ---- the project ----------------------------------------------------------------------------------

let dir: string;
let sandbox: Sandbox;
const env = { ...process.env, [TOKEN_ENV]: SANDBOX_TOKEN };

interface Sent {
  op: 'add' | 'remove';
  rows: Record<string, string>[];
}
/** Every add and remove call to /{audience}/users, as the simulator received it (schema key -> value). */
let sent: Sent[] = [];

const csvField = (v: string | undefined) => (v === undefined ? '' : `"${v.replace(/"/g, '""')}"`);
async function writeMembers(rows: Row[]) {
  const header = ['id', ...KINDS, 'consent'].join(',');
  const lines = rows.map((r) => [r.id, ...KINDS.map((k) => csvField(r[k])), String(r.consent)].join(','));
  await writeFile(join(dir, 'data', 'members.csv'), [header, ...lines].join('\n') + '\n');
}

async function run(command: 'run' | 'plan' = 'run'): Promise<InvocationResult> {
  const manifest = await loadProject(dir, { env });
  return runInvocation(manifest, { command, logger: silentLogger, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  return queryDuckDbFile<T>(join(dir, 'state.duckdb'), sql);
}

const audienceId = () => sandbox.meta.audiences().find((a) => a.name === 'Everyone')!.id;
const held = (key: string) => sandbox.meta.members(audienceId(), key);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audsync-identity-'));
  sandbox = await startSandbox();
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: identity
target: local
targets:
  local:
    warehouse: { type: duckdb, path: state.duckdb }
state_schema: audsync
defaults:
  default_country: US
  guardrails: { max_remove_percent: 100, min_members: 0 }
`,
  );
  const columns = [`'id': 'VARCHAR'`, ...KINDS.map((k) => `'${k}': 'VARCHAR'`), `'consent': 'BOOLEAN'`].join(', ');
  await writeFile(
    join(dir, 'models', 'everyone.yml'),
    `name: everyone
sql: |
  SELECT * FROM read_csv('data/members.csv', header = true, quote = '"', escape = '"', columns = {${columns}})
key: id
identifiers: { ${KINDS.map((k) => `${k}: ${k}`).join(', ')} }
consent: consent
syncs:
  - destination: meta
    audience: { name: "Everyone" }
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
  // Record what reaches the simulator's /users endpoint (the simulator keeps sets per key, not rows):
  // the request as the simulator's server read it off the socket.
  const handle = sandbox.meta.handle.bind(sandbox.meta);
  sandbox.meta.handle = async (request: SimRequest) => {
    if (/\/users$/.test(request.path) && (request.method === 'POST' || request.method === 'DELETE')) {
      const body = JSON.parse(request.body.toString('utf8')) as { payload: { schema: string[]; data: string[][] } };
      const { schema, data } = body.payload;
      sent.push({ op: request.method === 'POST' ? 'add' : 'remove', rows: data.map((row) => Object.fromEntries(schema.map((k, i) => [k, row[i]!]))) });
    }
    return handle(request);
  };
});

afterAll(async () => {
  await sandbox?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const rowsOf = (op: 'add' | 'remove') => sent.filter((s) => s.op === op).flatMap((s) => s.rows);
const byKey = (rows: Record<string, string>[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

// ---- the scenario, in order -------------------------------------------------------------------------

describe('every identifier kind to Meta, end to end (DuckDB, CSV source, Meta simulator)', () => {
  let planned: InvocationResult;
  let first: InvocationResult;

  it('plan reports the invalid identifiers per kind, and the invalid and eligible members', async () => {
    await writeMembers(FIRST);
    planned = await run('plan');
    const s = planned.syncs[0]!;
    expect(s.status).toBe('planned');
    expect(s).toMatchObject({ members: 5, invalid: 2, no_consent: 1 });
    expect(s.invalid_by_kind).toEqual({
      email: 2, // B 'bo at example', C 'nope'
      phone: 1, // C '123'
      first_name: 0, last_name: 0, zip: 0, city: 0, state: 0, country: 0,
      maid: 1, // H: the all-zero id
      external_id: 0, // H's blank external id is not present at all
    });
    expect(sent).toEqual([]); // plan sends nothing
  });

  it('run sends exactly one multi-key row per eligible member, with the reference hashes per schema key', async () => {
    first = await run();
    const s = first.syncs[0]!;
    expect(s).toMatchObject({ status: 'success', members: 5, added: 5, invalid: 2, no_consent: 1, failed: 0 });
    expect(rowsOf('remove')).toEqual([]);
    const adds = rowsOf('add');
    expect(byKey(adds)).toEqual(byKey([A, B, D, E, F].map(expectedRow)));
    // spelled out for A, so the reference itself is held to the platforms' rules
    expect(adds).toContainEqual({
      EMAIL: ref.sha256('ana.lopez@example.com'),
      PHONE: ref.sha256('14155550134'),
      FN: ref.sha256('ana'),
      LN: ref.sha256('lópezobrien'),
      ZIP: ref.sha256('94105'),
      CT: ref.sha256('sanfrancisco'),
      ST: ref.sha256('ca'),
      COUNTRY: ref.sha256('us'),
      MADID: MADID_A.toLowerCase(), // plain, lowercased
      EXTERN_ID: 'crm-001', // plain, trimmed
    });
    // B: invalid email, valid British phone: sent on its phone, with its name and country
    expect(adds).toContainEqual({ ...blank(), PHONE: ref.sha256('442079460958'), FN: ref.sha256('bo'), COUNTRY: ref.sha256('gb') });
    // F: a national number read in its country's region ('UK' is GB); its hashed last name as it was
    expect(adds).toContainEqual({ ...blank(), EMAIL: ref.sha256('fay@example.org'), PHONE: ref.sha256('442079460018'), LN: LN_F, COUNTRY: ref.sha256('gb') });
    // D and E: their MADIDs alone, in plain text
    expect(adds).toContainEqual({ ...blank(), MADID: MADID_D.toLowerCase() });
    expect(adds).toContainEqual({ ...blank(), MADID: MADID_E });
  });

  it('the simulator holds those values per schema key; nothing of C, G or H', () => {
    const values = (key: string) => [...new Set([A, B, D, E, F].map(expectedRow).map((r) => r[key]!).filter((v) => v !== ''))].sort();
    for (const key of Object.values(KEY)) expect(held(key)).toEqual(values(key));
    expect(held('MADID')).toEqual([MADID_A.toLowerCase(), MADID_D.toLowerCase(), MADID_E].sort());
    expect(held('EXTERN_ID')).toEqual(['crm-001']);
    expect(held('EMAIL')).not.toContain(ref.sha256('gus@example.com'));
  });

  it('audsync_invalid_identifiers holds the same per-kind counts as plan, with the present counts', async () => {
    const runId = await lastRunId();
    const rows = await query<{ identifier: string; present: number; invalid: number }>(
      `SELECT identifier, present, invalid FROM audsync.audsync_invalid_identifiers WHERE run_id = '${runId}' ORDER BY identifier`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.identifier, r.invalid]))).toEqual(planned.syncs[0]!.invalid_by_kind);
    expect(Object.fromEntries(rows.map((r) => [r.identifier, r.present]))).toEqual({
      email: 4, phone: 4, first_name: 3, last_name: 2, zip: 2, city: 1, state: 1, country: 3, maid: 4, external_id: 1,
    });
    expect(first.syncs[0]!.invalid_by_kind).toEqual(planned.syncs[0]!.invalid_by_kind);
    const [runRow] = await query<{ invalid: number; members: number }>(`SELECT invalid, members FROM audsync.audsync_runs WHERE run_id = '${runId}'`);
    expect(runRow).toEqual({ invalid: 2, members: 5 });
  });

  it('the snapshot keeps hashes only: SHA-256 of the plain MADID and EXTERN_ID, the sent hashes of the rest', async () => {
    const snap = await query<Record<string, string | null>>(
      `SELECT member_key, email_hash, phone_hash, maid_hash, external_id_hash, country_hash FROM audsync.audsync_snapshots ORDER BY member_key`,
    );
    expect(snap.map((r) => r.member_key)).toEqual(['m01', 'm02', 'm04', 'm05', 'm06']);
    expect(snap[0]).toEqual({
      member_key: 'm01',
      email_hash: ref.sha256('ana.lopez@example.com'),
      phone_hash: ref.sha256('14155550134'),
      maid_hash: ref.sha256(MADID_A.toLowerCase()),
      external_id_hash: ref.sha256('crm-001'),
      country_hash: ref.sha256('us'),
    });
    for (const r of snap) for (const [k, v] of Object.entries(r)) if (k !== 'member_key' && v !== null) expect(v).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a changed phone: the old hash is removed, the new one added; consent withdrawn: the MADID is recovered and removed', async () => {
    sent = [];
    const F2: Row = { ...F, phone: '020 7946 0019' };
    const E2: Row = { ...E, consent: false };
    await writeMembers([A, B, C, D, E2, F2, G, H]);
    const s = (await run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', changed: 1, removed: 1, failed: 0 });
    expect(byKey(rowsOf('remove'))).toEqual(
      byKey([
        { ...blank(), MADID: MADID_E }, // recovered from E's row, still in the source
        // F's old phone, with its attributes (last name, country); its email is still held, so blank
        { ...blank(), PHONE: ref.sha256('442079460018'), LN: LN_F, COUNTRY: ref.sha256('gb') },
      ]),
    );
    expect(rowsOf('add')).toEqual([expectedRow(F2)]);
    expect(held('PHONE')).not.toContain(ref.sha256('442079460018'));
    expect(held('PHONE')).toContain(ref.sha256('442079460019'));
    expect(held('MADID')).not.toContain(MADID_E);
    expect(held('EMAIL')).toContain(ref.sha256('fay@example.org'));
  });

  it("a MADID-only member deleted from the source is dead-lettered ('unrecoverable'), the run partial; its MADID stays at Meta", async () => {
    sent = [];
    await writeMembers([A, B, C, { ...E, consent: false }, { ...F, phone: '020 7946 0019' }, G, H]);
    const s = (await run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', failed: 1 });
    expect(s.error).toMatch(/audsync_changes/);
    expect(sent).toEqual([]); // nothing could be sent
    const runId = await lastRunId();
    expect(await query(`SELECT member_key, op, status, error_code FROM audsync.audsync_changes WHERE run_id = '${runId}'`)).toEqual([
      { member_key: 'm04', op: 'remove', status: 'dead', error_code: 'unrecoverable' },
    ]);
    expect(await query(`SELECT status, failed FROM audsync.audsync_runs WHERE run_id = '${runId}'`)).toEqual([{ status: 'partial', failed: 1 }]);
    expect(held('MADID')).toContain(MADID_D.toLowerCase()); // what the dead letter is about
    expect((await query(`SELECT member_key FROM audsync.audsync_snapshots WHERE member_key = 'm04'`)).length).toBe(0);
  });

  // A member whose MADID changes: the old MADID cannot be recovered (only its hash is kept, the row
  // holds the new one) and partsSql makes 'lost' parts only for leavers, so the old MADID stays in
  // the audience and the change counts as sent: nothing in audsync_changes says otherwise.
  // it.fails: certain (the audience keeps an identifier no member has, silently); see test/sql/delta.test.ts.
  it.fails('a changed MADID: the old one leaves the audience, or the change is not reported as sent', async () => {
    sent = [];
    const A2: Row = { ...A, maid: '11111111-2222-4333-8444-555555555555' };
    await writeMembers([A2, B, C, { ...E, consent: false }, { ...F, phone: '020 7946 0019' }, G, H]);
    const s = (await run()).syncs[0]!;
    const runId = await lastRunId();
    const [change] = await query<{ status: string }>(`SELECT status FROM audsync.audsync_changes WHERE run_id = '${runId}' AND member_key = 'm01'`);
    expect(held('MADID')).toContain('11111111-2222-4333-8444-555555555555');
    const removed = !held('MADID').includes(MADID_A.toLowerCase());
    expect(removed || change?.status !== 'sent' || s.status !== 'success').toBe(true);
  });

  it('no raw identifier (email, phone digits, MADID, external id) in any table of the state schema', async () => {
    const tables = await query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'audsync' ORDER BY table_name`);
    expect(tables.length).toBeGreaterThan(8);
    let dump = '';
    for (const { table_name } of tables) dump += JSON.stringify(await query(`SELECT * FROM audsync.${table_name}`), (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    dump = dump.toLowerCase();
    const canaries = [
      'ana.lopez@example.com', 'ana.lopez', 'fay@example.org', 'bo at example', 'gus@example.com',
      '4155550134', '2079460958', '2079460018', '2079460019', '2125550199',
      MADID_A, MADID_D, MADID_E, '11111111-2222-4333-8444-555555555555', 'crm-001', 'lópez',
    ].map((c) => c.toLowerCase());
    expect(canaries.filter((c) => dump.includes(c))).toEqual([]);
    // positive control: the dump does hold the hashes of those values
    expect(dump).toContain(ref.sha256('crm-001'));
    expect(dump).toContain(ref.sha256('11111111-2222-4333-8444-555555555555')); // A's MADID since the last run
    expect(dump).toContain(ref.sha256('14155550134'));
  });
});

function blank(): Record<string, string> {
  return Object.fromEntries(Object.values(KEY).map((k) => [k, '']));
}

async function lastRunId(): Promise<string> {
  return (await query<{ run_id: string }>(`SELECT run_id FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1`))[0]!.run_id;
}
