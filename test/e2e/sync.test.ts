// The segment-to-audience scenarios a user relies on, on every warehouse (DuckDB and Postgres)
// against the Meta simulator given as api_base_url: after every run the audience holds exactly the
// hashes of the eligible members.
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProject, emailHash, expectedHashes, PG_DB_URL_ENV, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';

const base: Customer[] = [
  { customer_id: 'C1', email: 'Ana@Example.com', ads_consent: true },
  { customer_id: 'C2', email: '  bo@example.com ', ads_consent: true },
  { customer_id: 'C3', email: 'cy@example.com', ads_consent: false },
  { customer_id: 'C4', email: 'not-an-email', ads_consent: true },
  { customer_id: 'C5', email: null, ads_consent: true },
  { customer_id: 'C6', email: 'household@example.com', ads_consent: true },
  { customer_id: 'C7', email: 'HOUSEHOLD@example.com', ads_consent: true },
];

let p: TestProject;

async function sync(rows: Customer[]) {
  await p.writeCustomers(rows);
  const result = await p.run();
  expect(p.audienceHashes()).toEqual(expectedHashes(rows));
  return result.syncs[0]!;
}

const changesOf = (runId: string) =>
  p.query<{ member_key: string; op: string; status: string }>(
    `SELECT member_key, op, status FROM audsync.audsync_changes WHERE run_id = '${runId}' ORDER BY member_key`,
  );
const lastRunId = async () =>
  (await p.query<{ run_id: string }>(`SELECT run_id FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1`))[0]!.run_id;

describe.each(WAREHOUSES)('a segment kept equal to a Meta audience, on %s', (warehouse) => {
  beforeEach(async () => {
    p = await createProject({ warehouse });
  });
  afterEach(async () => {
    await p.cleanup();
  });

  it('first sync sends consented, valid, normalized emails once each and records every member', async () => {
    const s = await sync(base);
    expect(s).toMatchObject({ status: 'success', members: 4, added: 4, removed: 0, changed: 0, failed: 0, invalid: 2, no_consent: 1 });
    expect(s.rows_to_send).toEqual({ add: 3, remove: 0 }); // the household email is one row
    expect(p.audienceHashes()).toEqual([emailHash('ana@example.com'), emailHash('bo@example.com'), emailHash('household@example.com')].sort());
    expect(p.sandbox.meta.audiences()).toHaveLength(1);

    const runs = await p.query(`SELECT status, members, added, removed, changed, failed, invalid, held_out, audience_id, mode, target FROM audsync.audsync_runs`);
    expect(runs).toEqual([
      { status: 'success', members: 4, added: 4, removed: 0, changed: 0, failed: 0, invalid: 2, held_out: 0, audience_id: p.audienceId(), mode: 'mirror', target: 'local' },
    ]);
    expect(await changesOf(await lastRunId())).toEqual(['C1', 'C2', 'C6', 'C7'].map((k) => ({ member_key: k, op: 'add', status: 'sent' })));
    const snapshot = await p.query<{ member_key: string; email_hash: string }>(
      `SELECT member_key, email_hash FROM audsync.audsync_snapshots ORDER BY member_key`,
    );
    expect(snapshot).toEqual([
      { member_key: 'C1', email_hash: emailHash('ana@example.com') },
      { member_key: 'C2', email_hash: emailHash('bo@example.com') },
      { member_key: 'C6', email_hash: emailHash('household@example.com') },
      { member_key: 'C7', email_hash: emailHash('household@example.com') },
    ]);
  });

  it('a second run with no source change sends nothing and records no change', async () => {
    await sync(base);
    const requests = p.writes().length;
    const s = await sync(base);
    expect(s).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0, requests: 0 });
    expect(p.writes().length).toBe(requests);
    expect(await changesOf(await lastRunId())).toEqual([]);
  });

  it('adds, removes, email changes, consent changes and deleted source rows converge', async () => {
    await sync(base);
    const next: Customer[] = [
      { customer_id: 'C1', email: 'ana.new@example.com', ads_consent: true }, // email changed
      // C2 deleted from the source
      { customer_id: 'C3', email: 'cy@example.com', ads_consent: true }, // consent granted
      { customer_id: 'C4', email: 'not-an-email', ads_consent: true },
      { customer_id: 'C6', email: 'household@example.com', ads_consent: false }, // consent revoked, C7 still holds it
      { customer_id: 'C7', email: 'HOUSEHOLD@example.com', ads_consent: true },
      { customer_id: 'C8', email: 'dee@example.com', ads_consent: true }, // new
    ];
    const s = await sync(next);
    expect(s).toMatchObject({ status: 'success', added: 2, removed: 2, changed: 1, failed: 0 });
    expect(p.audienceHashes()).toContain(emailHash('household@example.com'));
    expect(p.audienceHashes()).not.toContain(emailHash('ana@example.com'));
    expect(await changesOf(await lastRunId())).toEqual([
      { member_key: 'C1', op: 'change', status: 'sent' },
      { member_key: 'C2', op: 'remove', status: 'sent' },
      { member_key: 'C3', op: 'add', status: 'sent' },
      { member_key: 'C6', op: 'remove', status: 'noop' }, // C7 still holds the household email
      { member_key: 'C8', op: 'add', status: 'sent' },
    ]);

    // The last household member leaves: now the shared email goes.
    const last = next.filter((r) => r.customer_id !== 'C7');
    const s2 = await sync(last);
    expect(s2).toMatchObject({ removed: 1, failed: 0 });
    expect(p.audienceHashes()).not.toContain(emailHash('household@example.com'));
  });

  it('a member joining with an email the audience already holds is recorded without a request', async () => {
    await sync(base);
    const requests = p.writes().length;
    const s = await sync([...base, { customer_id: 'C9', email: 'Bo@Example.com', ads_consent: true }]);
    expect(s).toMatchObject({ added: 1, rows_to_send: { add: 0, remove: 0 } });
    expect(p.writes().length).toBe(requests);
    expect(await changesOf(await lastRunId())).toEqual([{ member_key: 'C9', op: 'add', status: 'noop' }]);
  });

  it('two members swapping emails sends nothing and keeps both', async () => {
    await sync(base);
    const swapped = base.map((r) =>
      r.customer_id === 'C1' ? { ...r, email: 'bo@example.com' } : r.customer_id === 'C2' ? { ...r, email: 'ana@example.com' } : r,
    );
    const s = await sync(swapped);
    expect(s).toMatchObject({ changed: 2, rows_to_send: { add: 0, remove: 0 } });
  });

  it('plan reports exactly what run then sends, and changes nothing', async () => {
    await sync(base);
    const next = [...base.filter((r) => r.customer_id !== 'C2'), { customer_id: 'C10', email: 'eve@example.com', ads_consent: true }];
    await p.writeCustomers(next);
    const before = await p.query(`SELECT count(*) AS n FROM audsync.audsync_runs`);
    const requests = p.writes().length;
    const plan = (await p.run({ command: 'plan' })).syncs[0]!;
    expect(plan.status).toBe('planned');
    expect(p.writes().length).toBe(requests);
    expect(await p.query(`SELECT count(*) AS n FROM audsync.audsync_runs`)).toEqual(before);

    const run = (await p.run()).syncs[0]!;
    for (const key of ['members', 'added', 'removed', 'changed', 'invalid', 'held_out', 'rows_to_send'] as const) {
      expect(run[key], key).toEqual(plan[key]);
    }
    const sent = p.writes().slice(requests).filter((r) => r.status === 200);
    expect(sent.filter((r) => r.op === 'add').reduce((n, r) => n + r.rows, 0)).toBe(plan.rows_to_send.add);
    expect(sent.filter((r) => r.op === 'remove').reduce((n, r) => n + r.rows, 0)).toBe(plan.rows_to_send.remove);
  });

  it('plan: a model whose SQL fails fails its own sync only; the other model is still planned', async () => {
    await p.writeCustomers(base);
    await writeFile(
      join(p.dir, 'models', 'a_broken.yml'),
      `name: a_broken\nsql: SELECT customer_id, email FROM no_such_table\nkey: customer_id\nidentifiers: { email: email }\nsyncs:\n  - destination: meta\n    audience: { name: "Broken" }\n`,
    );
    const plan = await p.run({ command: 'plan' });
    const byModel = Object.fromEntries(plan.syncs.map((s) => [s.model, s]));
    expect(plan.syncs.map((s) => s.model)).toEqual(['a_broken', 'buyers']); // the broken one runs first
    expect(byModel.a_broken).toMatchObject({ status: 'failed', error: expect.stringContaining("model 'a_broken': its SQL failed") });
    expect(byModel.buyers).toMatchObject({ status: 'planned', added: 4, rows_to_send: { add: 3, remove: 0 } });
  });

  it('plan on a fresh warehouse creates no audience and no state', async () => {
    await p.writeCustomers(base);
    const plan = (await p.run({ command: 'plan' })).syncs[0]!;
    expect(plan).toMatchObject({ status: 'planned', audience_created: true, added: 4, rows_to_send: { add: 3, remove: 0 } });
    expect(p.sandbox.meta.audiences()).toEqual([]);
    expect(await p.query(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'audsync'`)).toEqual([{ n: 0 }]);
  });

  it('a duplicate member key fails the sync naming the model and the key, and sends nothing', async () => {
    await sync(base);
    const requests = p.writes().length;
    await p.writeCustomers([...base, { customer_id: 'C2', email: 'other@example.com', ads_consent: true }]);
    const s = (await p.run()).syncs[0]!;
    expect(s.status).toBe('failed');
    expect(s.error).toContain("model 'buyers': key column 'customer_id' is not unique: 'C2' (2 rows)");
    expect(p.writes().length).toBe(requests);
    expect(await p.query(`SELECT count(*) AS n FROM audsync.audsync_snapshots`)).toEqual([{ n: 4 }]);
  });

  it('a NULL member key fails the sync', async () => {
    await p.writeCustomers([...base, { customer_id: '', email: 'x@example.com', ads_consent: true }]);
    const s = (await p.run()).syncs[0]!;
    expect(s.status).toBe('failed');
    expect(s.error).toContain("1 of 8 rows have a NULL key (column 'customer_id')");
    expect(p.sandbox.meta.audiences()).toEqual([]); // failed before the audience was created
  });

  it('finds the audience by name on later runs instead of creating another', async () => {
    await sync(base);
    const id = p.audienceId();
    await sync(base.slice(0, 3));
    expect(p.sandbox.meta.audiences().map((a) => a.id)).toEqual([id]);
  });
});

describe('a DuckDB file named like the state schema (contract.md: audsync.duckdb, state_schema audsync)', () => {
  it('runs, re-runs and reports status without ambiguous names', async () => {
    const q = await createProject({ databaseFile: 'audsync.duckdb' });
    try {
      await q.writeCustomers(base);
      expect((await q.run()).syncs[0]).toMatchObject({ status: 'success', added: 4 });
      expect((await q.run()).syncs[0]).toMatchObject({ status: 'success', added: 0 });
      expect(q.audienceHashes()).toEqual(expectedHashes(base));
      const status = await q.cli(['status', '--json']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout).syncs[0].last_run).toMatchObject({ status: 'success', members: 4 });
    } finally {
      await q.cleanup();
    }
  });
});

describe('Postgres through the CLI (contract.md: connection: "${DATABASE_URL}")', () => {
  it('runs, re-runs and reports status; an unreachable server is one clear error that never shows the password', async () => {
    const q = await createProject({ warehouse: 'postgres' });
    try {
      await q.writeCustomers(base);
      const first = await q.cli(['run', '--json']);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout).syncs[0]).toMatchObject({ status: 'success', added: 4 });
      expect(JSON.parse((await q.cli(['run', '--json'])).stdout).syncs[0]).toMatchObject({ status: 'success', added: 0 });
      expect(q.audienceHashes()).toEqual(expectedHashes(base));
      const status = await q.cli(['status', '--json']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout).syncs[0].last_run).toMatchObject({ status: 'success', members: 4 });

      const port = await closedPort();
      const down = await q.cli(['run', '--json'], { [PG_DB_URL_ENV]: `postgres://postgres:Sup3r-s3cret@127.0.0.1:${port}/warehouse` });
      expect(down.code).toBe(1);
      expect(JSON.parse(down.stdout).error).toMatchObject({
        type: 'WarehouseError',
        message: `postgres: cannot connect to 127.0.0.1:${port}/warehouse as postgres: connection refused (ECONNREFUSED)`,
        hint: expect.stringContaining('is the server running'),
      });
      expect(down.stdout + down.stderr).not.toContain('Sup3r-s3cret');
    } finally {
      await q.cleanup();
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}
