// One writer per sync (architecture.md invariant 9): the lock row in audsync_locks. A lock left by a
// dead process is taken over at once on the same host and at expiry elsewhere; a live holder makes
// a second run skip the sync (exit 5) or, with --wait, wait for it. The holder's heartbeat keeps
// its lock from expiring while it runs, and runs a kill interrupted are closed as failed.
// DuckDB locks its file against a second process, so on DuckDB the lock row is exercised in-process
// (lock rows written as another holder would); on Postgres, by real concurrent runs and processes.
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_HEARTBEAT_MS, LOCK_TTL_MS } from '../../src/runner/lock.js';
import { createProject, expectedHashes, type Customer, type TestProject } from '../support/project.js';
import { appendToDestination, projectWithSandboxFaults, sleep, spawnCli, waitFor } from './helpers.js';

const customers = (n: number, prefix = 'L'): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `${prefix}${i}`, email: `${prefix.toLowerCase()}${i}@example.com`, ads_consent: true }));

let p: TestProject | undefined;
afterEach(async () => {
  await p?.cleanup();
  p = undefined;
});

const ts = (ms: number) => new Date(Date.now() + ms).toISOString().replace('T', ' ').replace('Z', '');
/** A lock row as another run would have left it. */
const plantLock = (project: TestProject, holder: string, expiresInMs: number) =>
  project.query(
    `INSERT INTO audsync.audsync_locks VALUES ('buyers__meta', 'other-run', '${holder}', TIMESTAMP '${ts(-1000)}', TIMESTAMP '${ts(expiresInMs)}')`,
  );
/** The lock rows; none while the first run has not created the state schema yet. */
const locks = (project: TestProject) =>
  project
    .query<{ run_id: string; holder: string; expires_at: Date }>(`SELECT run_id, holder, expires_at FROM audsync.audsync_locks`)
    .catch((error: Error) => {
      if (/does not exist/.test(error.message)) return [];
      throw error;
    });

/** A pid on this host that is certainly dead: a child that has exited. */
async function deadPid(): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('the documented timing', () => {
  it('locks expire 2 minutes ahead and are extended every 30 s', () => {
    expect(LOCK_TTL_MS).toBe(120_000);
    expect(LOCK_HEARTBEAT_MS).toBe(30_000);
  });
});

describe('lock rows on DuckDB (in-process)', () => {
  async function project() {
    p = await createProject();
    await p.writeCustomers(customers(3));
    expect((await p.run()).status).toBe('success'); // creates the state schema
    await p.writeCustomers(customers(4));
    return p;
  }

  it('a live holder on this host: the sync is skipped (exit 5 from the CLI), nothing sent, and the message names --wait', async () => {
    const q = await project();
    await plantLock(q, `${hostname()}:1`, 60_000); // pid 1 is always alive
    const writes = q.writes().length;
    const s = (await q.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'skipped', added: 0 });
    expect(s.error).toMatch(/another run \(other-run on .+:1\) holds the lock of this sync; run with --wait to wait for it/);
    const cli = await q.cli(['run', '--json']);
    expect(cli.code, cli.stderr).toBe(5);
    expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'skipped' });
    const waited = await q.cli(['run', '--wait', '1']);
    expect(waited.code).toBe(5);
    expect(waited.stdout).toMatch(/holds the lock of this sync for the whole --wait of 1 s/);
    expect(q.writes()).toHaveLength(writes);
    expect(await locks(q)).toEqual([expect.objectContaining({ run_id: 'other-run' })]); // not ours to remove
  });

  it('a holder on this host whose process is gone is taken over at once, and its unfinished run is closed as interrupted', async () => {
    const q = await project();
    await plantLock(q, `${hostname()}:${await deadPid()}`, 60_000);
    await q.query(
      `INSERT INTO audsync.audsync_runs (run_id, invocation_id, sync_id, model, destination, mode, target, status, started_at)
       VALUES ('other-run', 'inv', 'buyers__meta', 'buyers', 'meta', 'mirror', 'local', 'running', TIMESTAMP '${ts(-5000)}')`,
    );
    expect((await q.run()).syncs[0]).toMatchObject({ status: 'success', added: 1 });
    expect(q.audienceHashes()).toEqual(expectedHashes(customers(4)));
    expect(await locks(q)).toEqual([]);
    const [interrupted] = await q.query<{ status: string; error_message: string; finished_at: Date | null }>(
      `SELECT status, error_message, finished_at FROM audsync.audsync_runs WHERE run_id = 'other-run'`,
    );
    expect(interrupted).toMatchObject({ status: 'failed', finished_at: expect.any(Date) });
    expect(interrupted!.error_message).toMatch(/^interrupted: the run ended before finishing/);
  });

  it('a holder on another host keeps its lock until it expires; then it is taken over', async () => {
    const q = await project();
    await plantLock(q, 'elsewhere.example:4242', 60_000);
    expect((await q.run()).syncs[0]!.status).toBe('skipped');
    await q.query(`UPDATE audsync.audsync_locks SET expires_at = TIMESTAMP '${ts(-1)}'`);
    expect((await q.run()).syncs[0]!.status).toBe('success');
  });

  it('--wait waits for a lock to expire, then runs; a wait shorter than the lock skips', async () => {
    const q = await project();
    await plantLock(q, 'elsewhere.example:4242', 60_000);
    const short = await q.run({ waitMs: 300, lock: { pollMs: 50 } });
    expect(short.syncs[0]).toMatchObject({ status: 'skipped', error: expect.stringMatching(/for the whole --wait of 0 s/) });
    await q.query(`UPDATE audsync.audsync_locks SET expires_at = TIMESTAMP '${ts(1500)}'`);
    const started = Date.now();
    const waited = await q.run({ waitMs: 20_000, lock: { pollMs: 100 } });
    expect(waited.syncs[0]).toMatchObject({ status: 'success', added: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('--wait takes seconds; anything else is a usage error (exit 2) and nothing runs', async () => {
    const q = await project();
    for (const bad of ['soon', '-3', '1e9']) {
      const r = await q.cli(['run', `--wait=${bad}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: --wait takes a number of seconds between 0 and 86400, not '${bad.replace('.', '\\.')}'`));
    }
  });

  it('a second process waits for the DuckDB file with --wait instead of exiting 5', async () => {
    p = await createProject();
    await appendToDestination(p, 'limits: { batch_size: 1, concurrency: 1 }\ntimeout_ms: 8000');
    await p.writeCustomers(customers(8));
    // The first run's second request gets no answer: it waits 8 s for it, holding the file.
    p.sandbox.meta.failNext(1, 'timeout', { op: 'add', skip: 1 });
    const first = spawnCli(p.dir, p.env, ['run']);
    await waitFor('the first run to hang on a request', () => p!.sandbox.meta.requests.some((r) => r.fault === 'timeout') || undefined);
    const blocked = await spawnCli(p.dir, p.env, ['run']).done;
    expect(blocked.code, blocked.stderr).toBe(5);
    expect(blocked.stderr).toMatch(/in use by another process[\s\S]*--wait/);
    const patient = spawnCli(p.dir, p.env, ['run', '--wait', '60', '--json']);
    expect((await first.done).code).toBe(0);
    const second = await patient.done;
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).syncs[0]).toMatchObject({ status: 'success', added: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(customers(8)));
  });
});

describe('concurrent runs on Postgres', () => {
  async function slowProject(latencyMs: number, rows: number) {
    p = await projectWithSandboxFaults(`latency=${latencyMs}`, { warehouse: 'postgres' });
    await appendToDestination(p, 'limits: { batch_size: 1, concurrency: 1 }\ntimeout_ms: 8000');
    await p.writeCustomers(customers(rows));
    return p;
  }

  it('two runs at once in one process: one delivers, the other skips; with --wait both succeed, one after the other', async () => {
    const q = await slowProject(150, 8);
    const [a, b] = await Promise.all([q.run(), sleep(300).then(() => q.run())]);
    expect([a.syncs[0]!.status, b.syncs[0]!.status].sort()).toEqual(['skipped', 'success']);
    expect(q.audienceHashes()).toEqual(expectedHashes(customers(8)));

    await q.writeCustomers(customers(12));
    const wait = { waitMs: 30_000, lock: { pollMs: 100 } };
    const [c, d] = await Promise.all([q.run(wait), sleep(300).then(() => q.run(wait))]);
    expect([c.syncs[0]!.status, d.syncs[0]!.status]).toEqual(['success', 'success']);
    expect([c.syncs[0]!.added, d.syncs[0]!.added].sort()).toEqual([0, 4]); // one after the other: the second finds nothing left
    expect(q.sandbox.meta.audiences()).toHaveLength(1);
  });

  it('the heartbeat keeps a running sync locked past its TTL; a competitor is still turned away', async () => {
    const q = await slowProject(200, 12); // about 2.5 s of delivery
    const timing = { ttlMs: 800, heartbeatMs: 150, pollMs: 50 };
    const running = q.run({ lock: timing });
    await waitFor('the lock', async () => (await locks(q))[0]);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(200);
      const [lock] = await locks(q);
      if (!lock) break;
      seen.push(lock.expires_at.getTime());
      expect(lock.expires_at.getTime()).toBeGreaterThan(Date.now() - 50); // never lapses
    }
    expect(seen.length).toBeGreaterThanOrEqual(5); // still held well past the 800 ms TTL
    expect(new Set(seen).size).toBeGreaterThan(2); // and extended, again and again
    const competitor = await q.run({ lock: timing });
    expect(competitor.syncs[0]!.status).toBe('skipped');
    expect((await running).syncs[0]).toMatchObject({ status: 'success', added: 12 });
    expect(await locks(q)).toEqual([]);
  });

  it('across processes: a second CLI exits 5 while the first runs, --wait waits; a SIGKILLed holder is taken over at once', async () => {
    const q = await slowProject(20, 8);
    // The first run's second request gets no answer: it waits 8 s for it, holding the lock.
    q.sandbox.meta.failNext(1, 'timeout', { op: 'add', skip: 1 });
    const first = spawnCli(q.dir, q.env, ['run']);
    await waitFor('the first run to hang on a request', () => q.sandbox.meta.requests.some((r) => r.fault === 'timeout') || undefined);
    const holder = (await locks(q))[0]!;
    expect(holder.holder).toBe(`${hostname()}:${first.child.pid}`);
    const second = await spawnCli(q.dir, q.env, ['run', '--json']).done;
    expect(second.code, second.stderr).toBe(5);
    expect(JSON.parse(second.stdout).syncs[0]).toMatchObject({ status: 'skipped', error: expect.stringContaining('holds the lock of this sync') });
    const third = spawnCli(q.dir, q.env, ['run', '--wait', '60', '--json']);
    expect((await first.done).code).toBe(0);
    expect((await third.done).code).toBe(0);

    // Kill a holder mid-delivery: the next process takes over at once and converges.
    await q.writeCustomers(customers(16));
    q.sandbox.meta.failNext(1, 'timeout', { op: 'add', skip: 1 });
    const before = q.sandbox.meta.requests.length;
    const victim = spawnCli(q.dir, q.env, ['run']);
    await waitFor('the victim to hang mid-delivery', () => q.sandbox.meta.requests.slice(before).some((r) => r.fault === 'timeout') || undefined);
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    expect(await locks(q)).toEqual([expect.objectContaining({ holder: `${hostname()}:${victim.child.pid}` })]);
    const started = Date.now();
    const next = await spawnCli(q.dir, q.env, ['run', '--json']).done;
    expect(next.code, next.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(q.audienceHashes()).toEqual(expectedHashes(customers(16)));
    const statuses = await q.query<{ status: string; error_message: string | null }>(`SELECT status, error_message FROM audsync.audsync_runs ORDER BY started_at`);
    expect(statuses.filter((r) => r.status === 'running')).toEqual([]);
    expect(statuses.filter((r) => r.error_message?.startsWith('interrupted:'))).toHaveLength(1);
    expect(q.sandbox.meta.audiences()).toHaveLength(1);
  });
});
