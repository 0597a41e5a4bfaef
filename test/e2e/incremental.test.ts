// Members whose source rows did not change since their last sync are not normalized again
// (source.ts): what a user relies on is that this changes nothing they can see. Every run here is
// checked against the audience, the counts a whole run reports, and audsync_invalid_identifiers.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InvocationResult, SyncResult } from '../../src/core/result.js';
import { createProject as createConformanceProject, type ConformanceProject, type Member } from '../conformance/support.js';
import { createProject, expectedHashes, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';

const base: Customer[] = [
  { customer_id: 'C1', email: 'ana@example.com', ads_consent: true },
  { customer_id: 'C2', email: ' bo@example.com', ads_consent: true },
  { customer_id: 'C3', email: 'cy@example.com', ads_consent: false }, // never synced, never normalized
  { customer_id: 'C4', email: 'not-an-email', ads_consent: true }, // invalid: normalized every run
  { customer_id: 'C5', email: null, ads_consent: true }, // no email: normalized every run
  { customer_id: 'C6', email: 'household@example.com', ads_consent: true },
  { customer_id: 'C7', email: 'household@example.com', ads_consent: true },
];

let p: TestProject;

/** Runs (or plans) and returns the sync's result with the rows the candidate normalized (from the log). */
async function runLogged(rows: Customer[], options: { command?: 'run' | 'plan'; fullRefresh?: boolean } = {}) {
  await p.writeCustomers(rows);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const result = await p.run({ ...options, logger: pino({ level: 'info' }, sink) });
  const materialized = lines.find((l) => l.msg === 'model materialized');
  return { sync: result.syncs[0]!, normalized: materialized?.normalized as number, rows: materialized?.rows as number };
}

/** What a user reads of a sync's counts: these must not depend on which members were normalized. */
const counts = (s: SyncResult) => ({ members: s.members, invalid: s.invalid, no_consent: s.no_consent, held_out: s.held_out, invalid_by_kind: s.invalid_by_kind });

const invalidRows = (runId: string) =>
  p.query<{ identifier: string; present: number; invalid: number }>(
    `SELECT identifier, present, invalid FROM audsync.audsync_invalid_identifiers WHERE run_id = '${runId}'`,
  );
/** Snapshot rows per sync and member beyond the first: the commit keeps them unique (DuckDB has no key to). */
const duplicateSnapshotRows = async () =>
  Number(
    (await p.query<{ n: number }>(`SELECT count(*) - count(DISTINCT sync_id || ':' || member_key) AS n FROM audsync.audsync_snapshots`))[0]!.n,
  );
const lastRunId = async () =>
  (await p.query<{ run_id: string }>(`SELECT run_id FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1`))[0]!.run_id;

describe.each(WAREHOUSES)('unchanged source rows are not normalized again, on %s', (warehouse) => {
  beforeEach(async () => {
    p = await createProject({ warehouse });
  });
  afterEach(async () => {
    await p.cleanup();
  });

  it('a second run normalizes only members never synced, and reports the counts the first did', async () => {
    const first = await runLogged(base);
    expect(first).toMatchObject({ rows: 7, normalized: 6 }); // all but C3, not consented and never synced
    expect(first.sync).toMatchObject({ status: 'success', members: 4, invalid: 2, no_consent: 1 });
    const firstInvalid = await invalidRows(await lastRunId());

    const second = await runLogged(base);
    expect(second).toMatchObject({ rows: 7, normalized: 2 }); // C4 and C5: eligible but never synced
    expect(second.sync).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0, requests: 0 });
    expect(counts(second.sync)).toEqual(counts(first.sync));
    expect(await invalidRows(await lastRunId())).toEqual(firstInvalid);
    expect(firstInvalid).toEqual([{ identifier: 'email', present: 5, invalid: 1 }]);
    expect(p.audienceHashes()).toEqual(expectedHashes(base));
  });

  it('a run where every row is unchanged (an empty candidate) counts every member from the snapshot', async () => {
    const synced = base.filter((c) => c.ads_consent && ['C1', 'C2', 'C6'].includes(c.customer_id));
    const first = await runLogged(synced);
    const second = await runLogged(synced);
    expect(second).toMatchObject({ rows: synced.length, normalized: 0 });
    expect(second.sync).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0, requests: 0, members: synced.length });
    expect(counts(second.sync)).toEqual(counts(first.sync));
  });

  it('a source value that normalizes the same sends nothing, and is not normalized on the run after', async () => {
    await runLogged(base);
    const recased = base.map((c) => (c.customer_id === 'C1' ? { ...c, email: ' ANA@Example.COM ' } : c));
    const requests = p.writes().length;
    const changed = await runLogged(recased);
    expect(changed).toMatchObject({ normalized: 3 }); // C1, and C4 and C5 as always
    expect(changed.sync).toMatchObject({ status: 'success', added: 0, changed: 0, requests: 0 });
    expect(p.writes().length).toBe(requests);
    // The snapshot learned C1's new source row: the next run skips it again.
    expect((await runLogged(recased)).normalized).toBe(2);
    expect(p.audienceHashes()).toEqual(expectedHashes(recased));
  });

  it('adds, removals, changes and consent revoked are found among unnormalized members, with the counts of a whole run', async () => {
    await runLogged(base);
    const next: Customer[] = [
      { customer_id: 'C1', email: 'ana.new@example.com', ads_consent: true }, // changed
      { customer_id: 'C2', email: ' bo@example.com', ads_consent: false }, // consent revoked
      base[2]!,
      base[3]!,
      base[4]!,
      base[5]!, // C6 unchanged; C7 deleted (the shared email stays with C6)
      { customer_id: 'C8', email: 'dee@example.com', ads_consent: true }, // joined
    ];
    const run = await runLogged(next);
    expect(run.normalized).toBe(5); // C1, C2 (synced, so read again for its removal), C4, C5, C8
    expect(run.sync).toMatchObject({ status: 'success', added: 1, removed: 2, changed: 1, failed: 0 });
    expect(p.audienceHashes()).toEqual(expectedHashes(next));
    // A whole candidate (--full-refresh) in plan counts exactly the same.
    const whole = await runLogged(next, { command: 'plan', fullRefresh: true });
    expect(whole.normalized).toBe(7);
    expect(counts(whole.sync)).toEqual(counts(run.sync));
    expect(await duplicateSnapshotRows()).toBe(0);
  });

  it('rows from before source fingerprints are normalized once, send nothing, and are skipped after', async () => {
    await runLogged(base);
    await p.query(`UPDATE audsync.audsync_snapshots SET source_fingerprint = NULL, kinds_mask = NULL`);
    const upgraded = await runLogged(base);
    expect(upgraded).toMatchObject({ normalized: 6 });
    expect(upgraded.sync).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0, requests: 0, members: 4, invalid: 2 });
    const filled = await p.query<{ n: number }>(`SELECT count(*) AS n FROM audsync.audsync_snapshots WHERE source_fingerprint IS NULL OR kinds_mask IS NULL`);
    expect(Number(filled[0]!.n)).toBe(0);
    expect((await runLogged(base)).normalized).toBe(2);
  });

  it('a key repeated among unchanged members, between an unchanged and a changed one, or among new ones, still fails the sync and sends nothing', async () => {
    await runLogged(base);
    const requests = p.writes().length;
    // C1 twice, the same row both times: both match its snapshot row, neither is normalized.
    const twice = await runLogged([...base, base[0]!]);
    expect(twice.sync.status).toBe('failed');
    expect(twice.sync.error).toContain("key column 'customer_id' is not unique: 'C1' (2 rows)");
    // C1 twice, one row unchanged (left out of the candidate) and one changed.
    const oneChanged = await runLogged([...base, { ...base[0]!, email: 'other.c1@example.com' }]);
    expect(oneChanged.sync.status).toBe('failed');
    expect(oneChanged.sync.error).toContain("key column 'customer_id' is not unique: 'C1' (2 rows)");
    const fresh = { customer_id: 'C9', email: 'nine@example.com', ads_consent: true };
    const newTwice = await runLogged([...base, fresh, { ...fresh, email: 'other@example.com' }]);
    expect(newTwice.sync.status).toBe('failed');
    expect(newTwice.sync.error).toContain("key column 'customer_id' is not unique: 'C9' (2 rows)");
    expect(p.writes().length).toBe(requests);
    expect(await duplicateSnapshotRows()).toBe(0);
  });

  it('two syncs of one model (one join with both snapshots): unchanged members are skipped for both, adds and removals reach both', async () => {
    await p.cleanup();
    p = await createProject({ warehouse, syncExtra: '  - destination: meta\n    name: buyers_lookalike\n    audience: { name: "Lookalike seed" }' });
    expect((await runLogged(base)).normalized).toBe(6);
    const again = await runLogged(base);
    expect(again.normalized).toBe(2); // C4 and C5, as with one sync
    expect(again.sync).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0 });
    const next = base.filter((c) => c.customer_id !== 'C2').concat([{ customer_id: 'C8', email: 'dee@example.com', ads_consent: true }]);
    await p.writeCustomers(next);
    const moved = await p.run();
    expect(moved.syncs.map((s) => [s.sync, s.status, s.added, s.removed, s.members])).toEqual([
      ['buyers__meta', 'success', 1, 1, 4],
      ['buyers_lookalike', 'success', 1, 1, 4],
    ]);
    expect(p.sandbox.meta.audiences()).toHaveLength(2);
    for (const audience of p.sandbox.meta.audiences()) expect([...p.sandbox.meta.members(audience.id, 'EMAIL')].sort()).toEqual(expectedHashes(next));
    expect(await duplicateSnapshotRows()).toBe(0);
  });

  it('--full-refresh normalizes and sends every member again', async () => {
    await runLogged(base);
    const refresh = await runLogged(base, { fullRefresh: true });
    expect(refresh.normalized).toBe(7);
    expect(refresh.sync).toMatchObject({ status: 'success', members: 4 });
    expect(p.audienceHashes()).toEqual(expectedHashes(base));
    expect(await duplicateSnapshotRows()).toBe(0);
    expect((await runLogged(base)).normalized).toBe(2);
    expect(await p.query(`SELECT count(*) AS n FROM audsync.audsync_snapshots`)).toEqual([{ n: 4 }]);
  });
});

/**
 * Two syncs of one model under different rules (Meta; Google with addresses), every kind mapped,
 * with invalid and missing values: after each run, each sync's counts equal those of a whole
 * candidate (plan --full-refresh) of the same source, and so do the audiences.
 */
describe('unchanged members count as a whole run counts them: Meta and Google, every kind', () => {
  const members: Member[] = [
    { customer_id: 'A', email: ' Dana.Doe@Gmail.com ', phone: '(415) 555-0134', first_name: ' Dana ', last_name: 'Doe', zip: '94105-1234', country: 'US', ads_consent: true },
    { customer_id: 'B', email: 'alex@example.com', phone: '+44 20 7946 0958', first_name: 'Alex', last_name: "O'Brien", zip: 'sw1a  1aa', country: 'uk', ads_consent: true },
    { customer_id: 'C', email: 'not an email', phone: '+1 212 555 0199', ads_consent: true }, // phone only
    { customer_id: 'D', email: 'quinn@example.com', phone: '12', first_name: 'Quinn', zip: 'x', country: 'Atlantis', ads_consent: true }, // invalid phone, zip, country
    { customer_id: 'E', email: 'no@example.com', ads_consent: false },
    { customer_id: 'F', email: null, phone: null, first_name: 'Nobody', ads_consent: true }, // no match identifier
  ];
  let c: ConformanceProject | undefined;
  afterEach(async () => {
    await c?.cleanup();
    c = undefined;
  });

  const countsOf = (r: InvocationResult) => r.syncs.map((s) => ({ sync: s.sync, ...counts(s) }));

  it('after a first run, a run with no change and a run with changes', async () => {
    c = await createConformanceProject({
      destinations: [
        { name: 'meta', platform: 'meta', audience: 'Everyone' },
        { name: 'google', platform: 'google_dm', audience: '777' },
      ],
    });
    const changed: Member[] = [
      { ...members[0]!, phone: 'n/a' }, // phone now invalid
      members[1]!,
      { ...members[2]!, email: 'cy@example.com' }, // email now valid
      members[3]!,
      { ...members[4]!, ads_consent: true }, // consents
      members[5]!,
    ];
    for (const rows of [members, members, changed, changed]) {
      await c.write(rows);
      const run = await c.run();
      expect(run.syncs.map((s) => s.status)).toEqual(['success', 'success']);
      const whole = await c.run({ command: 'plan', fullRefresh: true });
      expect(countsOf(run)).toEqual(countsOf(whole));
    }
    const stored = await c.query<{ sync_id: string; identifier: string; present: number; invalid: number }>(
      `SELECT r.sync_id, i.identifier, i.present, i.invalid FROM audsync.audsync_invalid_identifiers i JOIN audsync.audsync_runs r ON r.run_id = i.run_id
       WHERE r.started_at = (SELECT max(started_at) FROM audsync.audsync_runs x WHERE x.sync_id = r.sync_id) ORDER BY 1, 2`,
    );
    // The last run: D's phone, zip and country are invalid; A's phone too; F maps a first name only.
    expect(stored.filter((s) => s.invalid > 0).map((s) => [s.sync_id.split('__')[1], s.identifier, s.invalid])).toEqual(
      expect.arrayContaining([
        ['meta', 'phone', 2],
        ['google', 'phone', 2],
      ]),
    );
  });
});
