// What happens when the platform fails, on every warehouse: a failed row is never recorded as
// synced, so the next run sends it again and the audience converges; partial failures are never
// reported as success.
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, emailHash, expectedHashes, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';

const customers = (n: number, prefix = 'm'): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `K${String(i).padStart(3, '0')}`, email: `${prefix}${i}@example.com`, ads_consent: true }));

let p: TestProject;
afterEach(async () => {
  await p.cleanup();
});

const changes = (status?: string) =>
  p.query<{ member_key: string; op: string; status: string; attempt: number; error_code: string | null; error_message: string | null }>(
    `SELECT member_key, op, status, attempt, error_code, error_message FROM audsync.audsync_changes
     ${status ? `WHERE status = '${status}'` : ''} ORDER BY member_key, attempt`,
  );
const snapshotKeys = async () =>
  (await p.query<{ member_key: string }>(`SELECT member_key FROM audsync.audsync_snapshots ORDER BY 1`)).map((r) => r.member_key);

describe.each(WAREHOUSES)('delivery failures, on %s', (warehouse) => {
  it('throttling and 5xx within the retry budget still converge in one run', async () => {
    p = await createProject({ warehouse });
    const rows = customers(5);
    await p.writeCustomers(rows);
    p.sandbox.meta.failNext(1, 'throttle');
    p.sandbox.meta.failNext(1, 'error');
    p.sandbox.meta.failNext(1, 'reset');
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', added: 5, failed: 0, requests: 4 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
    expect(p.writes().map((w) => w.status)).toEqual([400, 500, 0, 200]); // 0: the reset never answered
  });

  it('a bad token stops the sync: nothing recorded as synced, the next run sends it all', async () => {
    p = await createProject({ warehouse });
    const rows = customers(4);
    await p.writeCustomers(rows);
    p.sandbox.meta.failNext(1, 'invalid_token');
    const failed = (await p.run()).syncs[0]!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/Meta rejected the access token/);
    expect(failed).toMatchObject({ added: 0, failed: 4 });
    expect(await snapshotKeys()).toEqual([]);
    const rejected = await changes('failed');
    expect(rejected).toHaveLength(4);
    expect(rejected[0]).toMatchObject({ op: 'add', attempt: 1, error_code: '190' });

    const retried = (await p.run()).syncs[0]!;
    expect(retried).toMatchObject({ status: 'success', added: 4, failed: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
    expect(await changes('sent')).toEqual(rows.map((r) => expect.objectContaining({ member_key: r.customer_id, attempt: 2 })));
    const [run] = await p.query(`SELECT status, error_message FROM audsync.audsync_runs ORDER BY started_at LIMIT 1`);
    expect(run).toMatchObject({ status: 'failed', error_message: expect.stringContaining('access token') });
  });

  it('retries exhausted on one batch stop the sync, keep what was accepted, and the next run finishes', async () => {
    p = await createProject({ warehouse });
    const rows = customers(6);
    await p.writeCustomers(rows);
    await limitBatches(p, 2);
    // Batch 1 passes, batch 2 fails every attempt (6 by default; the test runner allows 3).
    p.sandbox.meta.failNext(3, 'error', { op: 'add', skip: 1 });
    const s = (await p.run({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } })).syncs[0]!;
    expect(s.status).toBe('failed');
    expect(s.error).toMatch(/gave up after 3 attempts/);
    expect(s).toMatchObject({ added: 2, failed: 4 }); // batch 3 was never sent
    // Exactly the members of the accepted batch are recorded, and the audience holds exactly theirs.
    const synced = await snapshotKeys();
    expect(synced).toHaveLength(2);
    expect(p.audienceHashes()).toEqual(expectedHashes(rows.filter((r) => synced.includes(r.customer_id))));
    expect((await changes('failed')).map((c) => c.error_code).sort()).toEqual(['2', '2', 'not_sent', 'not_sent']);

    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', added: 4, failed: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
  });

  it('rows the platform rejects make the sync partial, and are sent again next run', async () => {
    p = await createProject({ warehouse });
    const rows = customers(4);
    await p.writeCustomers(rows);
    await limitBatches(p, 2);
    // K002's and K003's emails make Meta refuse any request carrying them (bisection isolates them).
    p.sandbox.meta.poison([emailHash('m2@example.com'), emailHash('m3@example.com')]);
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', added: 2, failed: 2 });
    expect(s.error).toMatch(/2 member changes were rejected or cannot be sent/);
    const rejected = await changes('failed');
    expect(rejected.map((r) => [r.member_key, r.error_code, r.error_message])).toEqual([
      ['K002', '100', expect.stringContaining('Invalid parameter')],
      ['K003', '100', expect.stringContaining('Invalid parameter')],
    ]);
    expect(p.audienceHashes()).toEqual(expectedHashes(rows.slice(0, 2)));

    p.sandbox.meta.poison([]);
    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', added: 2 });
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
  });

  it('a member whose old email cannot be removed keeps its old state: the new email waits', async () => {
    p = await createProject({ warehouse });
    const rows = customers(2);
    await p.writeCustomers(rows);
    await p.run();
    const changed = [{ ...rows[0]!, email: 'new0@example.com' }, rows[1]!];
    await p.writeCustomers(changed);
    p.sandbox.meta.failNext(1, 'invalid_payload', { op: 'remove' });
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', changed: 0, failed: 1 });
    // Neither the removal nor the add happened, and the snapshot still says the old email.
    expect(p.audienceHashes()).toEqual(expectedHashes(rows));
    expect(await p.query(`SELECT email_hash FROM audsync.audsync_snapshots WHERE member_key = 'K000'`)).toEqual([{ email_hash: emailHash('m0@example.com') }]);

    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', changed: 1 });
    expect(p.audienceHashes()).toEqual(expectedHashes(changed));
  });

  it('a member whose new email cannot be added after the old one was removed is re-added next run', async () => {
    p = await createProject({ warehouse });
    const rows = customers(2);
    await p.writeCustomers(rows);
    await p.run();
    const changed = [{ ...rows[0]!, email: 'new0@example.com' }, rows[1]!];
    await p.writeCustomers(changed);
    p.sandbox.meta.failNext(1, 'invalid_payload', { op: 'add' });
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', failed: 1 });
    expect(p.audienceHashes()).toEqual(expectedHashes([rows[1]!])); // old removed, new not added
    expect(await snapshotKeys()).toEqual(['K001']); // so the snapshot no longer claims K000 holds anything

    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', added: 1 });
    expect(p.audienceHashes()).toEqual(expectedHashes(changed));
  });

  it('a newcomer sharing the email of a held-back member is not recorded as sent, and arrives next run', async () => {
    p = await createProject({ warehouse });
    const before: Customer[] = [
      { customer_id: 'M', email: 'x@example.com', ads_consent: true },
      { customer_id: 'E', email: 'e@example.com', ads_consent: true },
    ];
    await p.writeCustomers(before);
    await p.run();
    // M moves to y; N joins with y; P and Q arrive too, so one add request spans y's row id.
    const after: Customer[] = [
      { customer_id: 'M', email: 'y@example.com', ads_consent: true },
      { customer_id: 'E', email: 'e@example.com', ads_consent: true },
      { customer_id: 'N', email: 'y@example.com', ads_consent: true },
      { customer_id: 'P', email: 'p@example.com', ads_consent: true },
      { customer_id: 'Q', email: 'q@example.com', ads_consent: true },
    ];
    await p.writeCustomers(after);
    p.sandbox.meta.failNext(1, 'invalid_payload', { op: 'remove' });
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', added: 2, failed: 2 });
    const failed = await changes('failed');
    expect(failed.map((c) => [c.member_key, c.error_code])).toEqual([
      ['M', '100'],
      ['N', 'held_back'],
    ]);
    expect(p.audienceHashes()).not.toContain(emailHash('y@example.com'));

    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', failed: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(after));
  });
});

/** Rewrites the destination with a small batch size, so one sync makes several requests. */
async function limitBatches(project: TestProject, batchSize: number) {
  const { readFile, writeFile: write } = await import('node:fs/promises');
  const file = `${project.dir}/destinations/meta.yml`;
  const text = await readFile(file, 'utf8');
  await write(file, `${text}limits: { batch_size: ${batchSize}, concurrency: 1 }\n`);
}
