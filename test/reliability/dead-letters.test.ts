// Dead letters (architecture.md invariant 2): after max_attempts failed attempts with the same data
// a member change is no longer sent, is recorded once as 'dead' in audsync_changes, is counted in
// dead_letters and keeps the run partial (exit 3) on every later run while it is outstanding; a
// change of the member's data starts the count again. On every warehouse.
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, emailHash, expectedHashes, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';

const member = (id: string, email: string, ads_consent = true): Customer => ({ customer_id: id, email, ads_consent });
const GOOD = [member('A', 'a@example.com'), member('B', 'b@example.com')];
const BAD = member('X', 'poison@example.com');

let p: TestProject;
afterEach(async () => {
  await p?.cleanup();
});

interface ChangeRow {
  member_key: string;
  op: string;
  status: string;
  attempt: number;
  error_code: string | null;
  error_message: string | null;
}
const changesOf = (key: string) =>
  p.query<ChangeRow>(
    `SELECT c.member_key, c.op, c.status, c.attempt, c.error_code, c.error_message
     FROM audsync.audsync_changes c JOIN audsync.audsync_runs r ON r.run_id = c.run_id
     WHERE c.member_key = '${key}' ORDER BY r.started_at`,
  );
const retries = () => p.query<{ member_key: string; attempts: number }>(`SELECT member_key, attempts FROM audsync.audsync_retries ORDER BY member_key`);

describe.each(WAREHOUSES)('dead letters, on %s', (warehouse) => {
  it('max_attempts rejections with the same data: dead once, then not sent, counted, exit 3 on every run; a data change starts again at 1', async () => {
    p = await createProject({ warehouse, defaults: '  max_attempts: 3\n  guardrails: { max_remove_percent: 100, min_members: 0 }' });
    await p.writeCustomers([...GOOD, BAD]);
    p.sandbox.meta.poison([emailHash(BAD.email!)]);

    for (const attempt of [1, 2]) {
      const s = (await p.run()).syncs[0]!;
      expect(s).toMatchObject({ status: 'partial', failed: 1, dead_letters: 0 });
      expect((await changesOf('X')).at(-1)).toMatchObject({ status: 'failed', attempt, error_code: '100' });
    }
    const third = (await p.run()).syncs[0]!;
    expect(third).toMatchObject({ status: 'partial', failed: 1, dead_letters: 1 });
    expect(third.error).toMatch(/1 member changes were rejected or cannot be sent \(1 of them dead-lettered/);
    const dead = (await changesOf('X')).at(-1)!;
    expect(dead).toMatchObject({ op: 'add', status: 'dead', attempt: 3, error_code: '100' });
    expect(dead.error_message).toMatch(/^dead-lettered after 3 failed attempts \(max_attempts\); not retried until the member's data changes: .*Invalid parameter/);
    expect(await retries()).toEqual([{ member_key: 'X', attempts: 3 }]);

    // Later runs: X is not sent and not recorded again, but counted, and the run stays partial.
    // Another member still syncs normally.
    await p.writeCustomers([...GOOD, BAD, member('C', 'c@example.com')]);
    const before = p.writes().length;
    const later = (await p.run()).syncs[0]!;
    expect(later).toMatchObject({ status: 'partial', added: 1, failed: 0, dead_letters: 1 });
    expect(later.error).toMatch(/1 member changes are dead-lettered \(failed max_attempts = 3 times\) and are not retried until their data changes/);
    expect(p.writes().slice(before).every((w) => w.status === 200)).toBe(true); // only C's add went out, and it passed
    expect(await changesOf('X')).toHaveLength(3);
    expect(p.audienceHashes()).toEqual(expectedHashes([...GOOD, member('C', 'c@example.com')]));

    // The CLI says the same to an orchestrator: exit 3, dead_letters in --json.
    const cli = await p.cli(['run', '--json']);
    expect(cli.code, cli.stderr).toBe(3);
    expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'partial', syncs: [{ status: 'partial', failed: 0, dead_letters: 1 }] });
    const plan = JSON.parse((await p.cli(['plan', '--json'])).stdout);
    expect(plan.syncs[0]).toMatchObject({ status: 'planned', added: 0, dead_letters: 1 });

    // X's data changes (still refused): a new attempt 1, not dead.
    const moved = member('X', 'poison2@example.com');
    p.sandbox.meta.poison([emailHash(moved.email!)]);
    await p.writeCustomers([...GOOD, moved, member('C', 'c@example.com')]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', failed: 1, dead_letters: 0 });
    expect((await changesOf('X')).at(-1)).toMatchObject({ status: 'failed', attempt: 1 });

    // ... and once accepted, the run succeeds and nothing is left to retry.
    p.sandbox.meta.poison([]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 1, failed: 0, dead_letters: 0, error: null });
    expect((await changesOf('X')).at(-1)).toMatchObject({ status: 'sent', attempt: 2 });
    expect(await retries()).toEqual([]);
    expect(p.audienceHashes()).toEqual(expectedHashes([...GOOD, moved, member('C', 'c@example.com')]));
  });

  it('a removal refused max_attempts times is dead-lettered with its hash still in the audience; the member coming back clears it', async () => {
    p = await createProject({ warehouse, syncExtra: '    max_attempts: 2' }); // per-sync override of the default 5
    await p.writeCustomers([...GOOD, BAD]);
    expect((await p.run()).syncs[0]!.status).toBe('success');

    const leaving = [...GOOD, { ...BAD, ads_consent: false }];
    await p.writeCustomers(leaving);
    p.sandbox.meta.poison([emailHash(BAD.email!)]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', failed: 1, dead_letters: 0 });
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', failed: 1, dead_letters: 1 });
    expect((await changesOf('X')).map((c) => [c.op, c.status, c.attempt])).toEqual([
      ['add', 'sent', 1],
      ['remove', 'failed', 1],
      ['remove', 'dead', 2],
    ]);
    // Dead: not sent again. The audience still holds X, and the snapshot says so.
    p.sandbox.meta.poison([]);
    const writes = p.writes().length;
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', removed: 0, dead_letters: 1 });
    expect(p.writes()).toHaveLength(writes);
    expect(p.audienceHashes()).toContain(emailHash(BAD.email!));
    expect(await p.query(`SELECT member_key FROM audsync.audsync_snapshots WHERE member_key = 'X'`)).toEqual([{ member_key: 'X' }]);

    // X consents again: its data matches what the audience holds, nothing to do, nothing left over.
    await p.writeCustomers([...GOOD, BAD]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', dead_letters: 0, error: null });
    expect(await retries()).toEqual([]);
    // ... so a later removal starts from attempt 1 and goes through.
    await p.writeCustomers(leaving);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1 });
    expect((await changesOf('X')).at(-1)).toMatchObject({ op: 'remove', status: 'sent', attempt: 1 });
    expect(p.audienceHashes()).toEqual(expectedHashes(leaving));
  });

  it('runs that stop (a refused token) count attempts but never dead-letter: the next healthy run sends everything', async () => {
    p = await createProject({ warehouse, defaults: '  max_attempts: 2\n  guardrails: { max_remove_percent: 100, min_members: 0 }' });
    await p.writeCustomers(GOOD);
    for (let i = 0; i < 3; i++) {
      p.sandbox.meta.failNext(1, 'invalid_token');
      expect((await p.run()).syncs[0]).toMatchObject({ status: 'failed', failed: 2, dead_letters: 0 });
    }
    expect((await changesOf('A')).map((c) => [c.status, c.attempt])).toEqual([
      ['failed', 1],
      ['failed', 2],
      ['failed', 2], // kept below max_attempts: the failure is the sync's, not the member's
    ]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 2, dead_letters: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(GOOD));
  });

  it('--full-refresh sends dead letters again', async () => {
    p = await createProject({ warehouse, syncExtra: '    max_attempts: 1' });
    await p.writeCustomers([...GOOD, BAD]);
    p.sandbox.meta.poison([emailHash(BAD.email!)]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', dead_letters: 1 });
    p.sandbox.meta.poison([]);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'partial', dead_letters: 1 });
    expect((await p.run({ fullRefresh: true })).syncs[0]).toMatchObject({ status: 'success', dead_letters: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes([...GOOD, BAD]));
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', dead_letters: 0, added: 0 });
  });
});
