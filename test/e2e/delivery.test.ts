// The delivery runtime against the Meta simulator: bisection isolates the rows that poison a batch,
// the retry budget stops a sync that only fails, and syncs to one ad account share its rate limit.
import { afterEach, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { createProject, emailHash, expectedHashes, type Customer, type TestProject } from '../support/project.js';

const customers = (n: number): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `K${String(i).padStart(3, '0')}`, email: `m${i}@example.com`, ads_consent: true }));

let p: TestProject;
afterEach(async () => {
  await p.cleanup();
});

async function setLimits(project: TestProject, limits: string) {
  const file = `${project.dir}/destinations/meta.yml`;
  await writeFile(file, `${await readFile(file, 'utf8')}limits: ${limits}\n`);
}

it('bisects a batch refused whole and fails only the rows that poison it', async () => {
  p = await createProject();
  const rows = customers(16);
  await p.writeCustomers(rows);
  await setLimits(p, '{ batch_size: 16, concurrency: 1 }');
  const bad = [emailHash('m3@example.com'), emailHash('m11@example.com')];
  p.sandbox.meta.poison(bad);

  const s = (await p.run()).syncs[0]!;
  expect(s).toMatchObject({ status: 'partial', added: 14, failed: 2 });
  expect(p.audienceHashes()).toEqual(expectedHashes(rows).filter((h) => !bad.includes(h)));
  const failed = await p.query<{ member_key: string; error_code: string }>(
    `SELECT member_key, error_code FROM audsync.audsync_changes WHERE status = 'failed' ORDER BY member_key`,
  );
  expect(failed).toEqual([
    { member_key: 'K003', error_code: '100' },
    { member_key: 'K011', error_code: '100' },
  ]);
  // 1 whole batch, then halves down to the two bad rows: far fewer requests than one per row.
  const writes = p.writes();
  expect(writes.length).toBeLessThan(16);
  expect(writes.filter((w) => w.status === 200).reduce((n, w) => n + w.rows, 0)).toBe(14);

  // Once the data is fixed (here: the poison lifted), the next run sends just those two.
  p.sandbox.meta.poison([]);
  const again = (await p.run()).syncs[0]!;
  expect(again).toMatchObject({ status: 'success' });
  expect(p.audienceHashes()).toEqual(expectedHashes(rows));
});

it('stops a sync whose platform keeps failing once the retry budget is spent', async () => {
  p = await createProject();
  await p.writeCustomers(customers(6));
  await setLimits(p, '{ batch_size: 1, concurrency: 1 }');
  p.sandbox.meta.failNext(100, 'error');
  const s = (await p.run({ retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 2, budget: 4 } })).syncs[0]!;
  expect(s.status).toBe('failed');
  expect(s.error).toMatch(/retry budget of 4 retries/);
  expect(p.writes()).toHaveLength(5); // the first try and 4 retries, then nothing more
});

it('syncs to one ad account share its rate limit, across destination files', async () => {
  p = await createProject({
    syncExtra: [
      '  - destination: meta_b\n    audience: { name: "Second audience" }',
      '  - destination: meta_c\n    audience: { name: "Third audience" }',
    ].join('\n'),
  });
  await p.writeCustomers(customers(4));
  await setLimits(p, '{ batch_size: 1, concurrency: 4, requests_per_second: 4 }');
  // Two more destination files for the same ad account (say, other teams' tokens).
  const first = await readFile(`${p.dir}/destinations/meta.yml`, 'utf8');
  for (const name of ['meta_b', 'meta_c']) await writeFile(`${p.dir}/destinations/${name}.yml`, first.replace('name: meta', `name: ${name}`));
  const started = Date.now();
  const result = await p.run();
  const seconds = (Date.now() - started) / 1000;
  expect(result.syncs.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  // 12 add requests at 4/s on one account start at 0, 1 and 2 s; a limit per destination file
  // would let each sync's 4 requests go at once and finish in well under a second.
  expect(seconds).toBeGreaterThanOrEqual(1.9);
});

it('--full-refresh replaces the audience in one session: strays and leavers go, counts are reported', async () => {
  p = await createProject();
  const rows = customers(6);
  await p.writeCustomers(rows);
  await setLimits(p, '{ batch_size: 2 }');
  await p.run();
  // Someone uploads an identifier into the audience by hand, outside audsync.
  const stray = emailHash('stray@example.com');
  const response = await fetch(`${p.sandbox.urlFor('meta')}/v21.0/${p.audienceId()}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ access_token: 'sandbox-token', payload: { schema: ['EMAIL'], is_raw: true, data: [[stray]] } }),
  });
  expect(response.status).toBe(200);
  expect(p.audienceHashes()).toContain(stray);

  const remaining = rows.slice(0, 4); // K004 and K005 leave the segment
  await p.writeCustomers(remaining);
  const s = (await p.run({ fullRefresh: true })).syncs[0]!;
  expect(s).toMatchObject({ status: 'success', removed: 2, failed: 0 });
  expect(p.audienceHashes()).toEqual(expectedHashes(remaining));
  // One session of 2 batches (4 rows, 2 per batch), no separate removal requests.
  const replaceCalls = p.sandbox.meta.requests.filter((r) => r.op === 'replace');
  expect(replaceCalls.map((r) => [r.rows, r.status])).toEqual([
    [2, 200],
    [2, 200],
  ]);
  expect(p.writes().filter((w) => w.op === 'remove')).toEqual([]);
  const changes = await p.query<{ member_key: string; op: string; status: string }>(
    `SELECT member_key, op, status FROM audsync.audsync_changes WHERE op = 'remove' ORDER BY member_key`,
  );
  expect(changes).toEqual([
    { member_key: 'K004', op: 'remove', status: 'sent' },
    { member_key: 'K005', op: 'remove', status: 'sent' },
  ]);
  const reports = await p.query<{ kind: string; status: string; details: string }>(
    `SELECT kind, status, details FROM audsync.audsync_platform_reports ORDER BY recorded_at DESC LIMIT 1`,
  );
  expect(reports).toEqual([{ kind: 'meta_replace_session', status: 'received', details: expect.any(String) }]);
  expect(JSON.parse(reports[0]!.details)).toMatchObject({ op: 'replace', requests: 2, num_received: 4, num_invalid_entries: 0 });
  const status = await p.cli(['status', '--json']);
  expect(JSON.parse(status.stdout).syncs[0].last_report).toMatchObject({ kind: 'meta_replace_session', details: { num_received: 4 } });
  // A later normal run sees nothing to do.
  expect((await p.run()).syncs[0]).toMatchObject({ added: 0, removed: 0, changed: 0 });
});

it('a replace session that fails leaves the audience and the snapshot as they were', async () => {
  p = await createProject();
  const rows = customers(4);
  await p.writeCustomers(rows);
  await setLimits(p, '{ batch_size: 2 }');
  await p.run();
  await p.writeCustomers(rows.slice(0, 3));
  p.sandbox.meta.failNext(1, 'invalid_token', { op: 'replace', skip: 1 }); // the closing batch fails
  const s = (await p.run({ fullRefresh: true })).syncs[0]!;
  expect(s.status).toBe('failed');
  expect(p.audienceHashes()).toEqual(expectedHashes(rows)); // the staged session never swapped in
  const snapshot = await p.query<{ n: number }>(`SELECT count(*) AS n FROM audsync.audsync_snapshots`);
  expect(snapshot).toEqual([{ n: 4 }]); // the leaver is still tracked, so a later run removes it
  const next = (await p.run()).syncs[0]!;
  expect(next).toMatchObject({ status: 'success', removed: 1 });
  expect(p.audienceHashes()).toEqual(expectedHashes(rows.slice(0, 3)));
});
