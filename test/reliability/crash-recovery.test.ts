// Crash safety (architecture.md invariant 4) for the window between sending and committing, on
// every warehouse. A run killed there has changed the audience without telling the snapshot; the
// snapshot-based delta alone would then trust a household email the killed run already removed, or
// never remove a member the killed run added. Found by the soak; runner/recovery.ts is the fix: the
// next run is a full refresh (Meta: one usersreplace session), which makes the audience exact.
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, emailHash, expectedHashes, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';
import { appendToDestination, spawnCli, waitFor } from './helpers.js';

const c = (id: string, email: string, ads_consent = true): Customer => ({ customer_id: id, email, ads_consent });

let p: TestProject;
afterEach(async () => {
  await p?.cleanup();
});

/**
 * Runs the CLI and SIGKILLs it once the simulator has applied its removal and while its add request
 * hangs unanswered: after sending, before the commit.
 */
async function killAfterRemoval(project: TestProject): Promise<void> {
  project.sandbox.meta.failNext(1, 'timeout', { op: 'add' });
  const before = project.sandbox.meta.requests.length;
  const run = spawnCli(project.dir, project.env, ['run']);
  await waitFor('the removal to be applied and the add to hang', () => {
    const fresh = project.sandbox.meta.requests.slice(before);
    return (fresh.some((r) => r.op === 'remove' && r.status === 200) && fresh.some((r) => r.op === 'add' && r.fault === 'timeout')) || undefined;
  });
  run.child.kill('SIGKILL');
  expect((await run.done).signal).toBe('SIGKILL');
}

const runs = () =>
  p.query<{ status: string; full_refresh: boolean; requests: number | null; error_message: string | null }>(
    `SELECT status, full_refresh, requests, error_message FROM audsync.audsync_runs ORDER BY started_at`,
  );

describe.each(WAREHOUSES)('a run killed between sending and committing, on %s', (warehouse) => {
  it('the next run re-sends everything in one replace: a household email the killed run removed comes back', async () => {
    p = await createProject({ warehouse });
    await p.writeCustomers([c('A', 'home@example.com'), c('C', 'c@example.com')]);
    expect((await p.run()).status).toBe('success');

    // A leaves (home@ is orphaned and removed), N arrives; killed after the removal went out.
    await p.writeCustomers([c('A', 'home@example.com', false), c('C', 'c@example.com'), c('N', 'n@example.com')]);
    await killAfterRemoval(p);
    expect(p.audienceHashes()).not.toContain(emailHash('home@example.com'));

    // B moves in with the same household email. The snapshot still says A holds it, so a plain
    // delta would record B as needing nothing sent.
    const rows = [c('A', 'home@example.com', false), c('B', 'home@example.com'), c('C', 'c@example.com'), c('N', 'n@example.com')];
    await p.writeCustomers(rows);
    const plan = (await p.run({ command: 'plan' })).syncs[0]!;
    expect(plan.rows_to_send.add).toBe(3); // plan says what run will do: every member again
    const recovery = (await p.run()).syncs[0]!;
    expect(recovery).toMatchObject({ status: 'success', failed: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
    expect(p.sandbox.meta.requests.filter((r) => r.op === 'replace').length).toBeGreaterThan(0);

    const history = await runs();
    expect(history.map((r) => [r.status, r.full_refresh])).toEqual([
      ['success', false],
      ['failed', false], // the killed run, closed by the next one
      ['success', true], // the recovery
    ]);
    expect(history[1]!.error_message).toMatch(/^interrupted: the run ended before finishing/);
    expect(history[1]!.requests).toBe(0); // it had started sending
    expect(await p.query(`SELECT count(*) AS n FROM audsync.audsync_locks`)).toEqual([{ n: 0 }]);

    // Certain again: the next run is an ordinary one.
    await p.writeCustomers([...rows, c('D', 'd@example.com')]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 1 });
    expect((await runs()).at(-1)!.full_refresh).toBe(false);
    expect(p.sandbox.meta.requests.at(-1)).toMatchObject({ op: 'add', rows: 1 });
  });

  it('a member the killed run added, who left before the next run, is removed', async () => {
    p = await createProject({ warehouse });
    await appendToDestination(p, 'limits: { batch_size: 1, concurrency: 1 }');
    await p.writeCustomers([c('C', 'c@example.com')]);
    expect((await p.run()).status).toBe('success');
    // X and Y arrive: the first add is applied, the second hangs; killed then.
    await p.writeCustomers([c('C', 'c@example.com'), c('X', 'x@example.com'), c('Y', 'y@example.com')]);
    p.sandbox.meta.failNext(1, 'timeout', { op: 'add', skip: 1 });
    const before = p.sandbox.meta.requests.length;
    const run = spawnCli(p.dir, p.env, ['run']);
    await waitFor('one add applied and the next hanging', () => {
      const fresh = p.sandbox.meta.requests.slice(before);
      return (fresh.some((r) => r.op === 'add' && r.status === 200) && fresh.some((r) => r.op === 'add' && r.fault === 'timeout')) || undefined;
    });
    run.child.kill('SIGKILL');
    await run.done;
    const newcomers = [emailHash('x@example.com'), emailHash('y@example.com')];
    expect(p.audienceHashes().filter((h) => newcomers.includes(h))).toHaveLength(1); // in the audience, unknown to the snapshot

    // Both leave the source before the next run: the one that reached the audience must go.
    const rows = [c('C', 'c@example.com')];
    await p.writeCustomers(rows);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success' });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
  });

  it('a --full-refresh whose replace session stops halfway records nothing as sent: the next run adds what is missing', async () => {
    p = await createProject({ warehouse });
    await appendToDestination(p, 'limits: { batch_size: 2, concurrency: 1 }');
    const first = [c('A', 'a@example.com'), c('B', 'b@example.com')];
    await p.writeCustomers(first);
    expect((await p.run()).status).toBe('success');
    const rows = [...first, c('C', 'c@example.com'), c('D', 'd@example.com'), c('E', 'e@example.com'), c('F', 'f@example.com')];
    await p.writeCustomers(rows);
    // The first batch of the session is accepted, the second fails every attempt: Meta keeps the old audience.
    p.sandbox.meta.failNext(3, 'error', { op: 'replace', skip: 1 });
    const refresh = (await p.run({ fullRefresh: true, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } })).syncs[0]!;
    expect(refresh.status).toBe('failed');
    expect(p.audienceHashes()).toEqual(expectedHashes(first));
    const snapshot = await p.query<{ member_key: string }>(`SELECT member_key FROM audsync.audsync_snapshots ORDER BY 1`);
    expect(snapshot.map((r) => r.member_key)).toEqual(['A', 'B']);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 4 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
  });

  it('an add_only sync, which never removes, needs no recovery', async () => {
    p = await createProject({ warehouse, syncExtra: '    mode: add_only' });
    await p.writeCustomers([c('A', 'a@example.com')]);
    expect((await p.run()).status).toBe('success');
    // A run that died while sending (it had started: requests = 0), closed by the next run.
    await p.query(
      `INSERT INTO audsync.audsync_runs (run_id, invocation_id, sync_id, model, destination, mode, target, status, started_at, full_refresh, requests)
       VALUES ('dead-run', 'inv', 'buyers__meta', 'buyers', 'meta', 'add_only', 'local', 'running', TIMESTAMP '2030-01-01 00:00:00', FALSE, 0)`,
    );
    await p.writeCustomers([c('A', 'a@example.com', false), c('B', 'b@example.com')]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 1, removed: 0 });
    expect(p.sandbox.meta.requests.filter((r) => r.op === 'replace')).toEqual([]);
    expect(p.audienceHashes()).toEqual(expectedHashes([c('A', 'a@example.com'), c('B', 'b@example.com')]));
  });

  it('a run killed before it sent anything needs no recovery', async () => {
    p = await createProject({ warehouse });
    await p.writeCustomers([c('A', 'a@example.com')]);
    expect((await p.run()).status).toBe('success');
    // A run that died after its audit row and before sending: closed as interrupted, no full refresh.
    await p.query(
      `INSERT INTO audsync.audsync_runs (run_id, invocation_id, sync_id, model, destination, mode, target, status, started_at, full_refresh)
       VALUES ('dead-run', 'inv', 'buyers__meta', 'buyers', 'meta', 'mirror', 'local', 'running', TIMESTAMP '2020-01-01 00:00:00', FALSE)`,
    );
    await p.query(`INSERT INTO audsync.audsync_locks VALUES ('buyers__meta', 'dead-run', '${hostname()}:999999999', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2999-01-01 00:00:00')`);
    await p.writeCustomers([c('A', 'a@example.com'), c('B', 'b@example.com')]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 1 });
    expect((await runs()).map((r) => [r.status, r.full_refresh])).toEqual([
      ['failed', false],
      ['success', false],
      ['success', false],
    ]);
    expect(p.sandbox.meta.requests.filter((r) => r.op === 'replace')).toEqual([]);
  });
});
