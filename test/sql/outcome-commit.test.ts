// outcome.ts + commit.ts: delivery outcomes written by hand into audsync_deliveries, the member
// results they imply (status and snapshot action), the rows streamed for sending, and the commit
// transaction's effect on snapshots, changes, retries and sync state, on DuckDB.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitSql } from '../../src/warehouse/sql/commit.js';
import { encodedBatchesSql, holdBackAddsSql, rowOutcomesSql } from '../../src/warehouse/sql/outcome.js';
import { scratch } from '../../src/warehouse/sql/names.js';
import {
  buildCandidate, buildDelta, commit, d, deliverSimulated, memberResults, membersModel, model, openDb, readParts, readSnapshot, seedDeliveries,
  sha256, spec, syncRun, t, valuesSql, type DeliverySeed, type Member, type PartRow, type TestDb,
  sendRows,
} from './support.js';

let db: TestDb;
beforeEach(async () => {
  db = await openDb({ migrate: true });
});
afterEach(async () => {
  await db.close();
});

const h = (email: string) => sha256(email);
const T1 = '2026-01-01T00:00:00.000Z';
const T2 = '2026-02-01T00:00:00.000Z';
const S = spec();
const SYNC = S.syncId;

const m = (id: string, email: string): Member => ({ id, email });
const rowOf = (parts: PartRow[], key: string, op: string) => {
  const p = parts.find((r) => r.member_key === key && r.op === op);
  if (!p) throw new Error(`no ${op} part for ${key}`);
  return p.row_id;
};
const one = (runId: string, op: 'add' | 'remove', row: number, status: 'sent' | 'failed', code?: string): DeliverySeed => ({
  run_id: runId, sync_id: SYNC, op, first_row_id: row, last_row_id: row, status,
  ...(code ? { error_code: code, error_message: `platform says ${code}` } : {}),
});
const changesOf = (runId: string) =>
  db.query<{ member_key: string; op: string; status: string; attempt: number; error_code: string | null; sent_at: Date | null }>(
    `SELECT member_key, op, status, attempt, error_code, sent_at FROM ${t.changes} WHERE run_id = '${runId}' ORDER BY member_key`,
  );
const retries = () => db.query(`SELECT member_key, attempts, last_error_code FROM ${t.retries} ORDER BY member_key`);

describe('a run with hand-written delivery outcomes', () => {
  // r1 synced A, B, C, H1, H2 (household), L. In r2: A unchanged, B and C change email, H1 and L
  // leave, N1 and N2 arrive. Outcomes: C's remove rejected, B's add rejected, N2's add never sent.
  const r1: Member[] = [m('A', 'a@x.io'), m('B', 'b@x.io'), m('C', 'c@x.io'), m('H1', 'home@x.io'), m('H2', 'home@x.io'), m('L', 'l@x.io')];
  const r2: Member[] = [m('A', 'a@x.io'), m('B', 'b2@x.io'), m('C', 'c2@x.io'), m('H2', 'home@x.io'), m('N1', 'n1@x.io'), m('N2', 'n2@x.io')];
  let parts: PartRow[];

  beforeEach(async () => {
    await syncRun(db.wh, r1, { runId: 'r1', nowIso: T1 });
    await buildCandidate(db.wh, membersModel(r2));
    await buildDelta(db.wh, S);
    parts = await readParts(db.wh, S);
    const removes = parts.filter((p) => p.op === 'remove').map((p) => p.row_id);
    await seedDeliveries(db.wh, [
      { run_id: 'r2', sync_id: SYNC, op: 'remove', first_row_id: Math.min(...removes), last_row_id: Math.max(...removes), status: 'sent' },
      one('r2', 'remove', rowOf(parts, 'C', 'remove'), 'failed', 'rejected_c'),
    ]);
  });

  it('parts: B and C each one remove and one add, L one remove, H1 nothing, N1 and N2 one add each', () => {
    expect(parts.map((p) => `${p.member_key}:${p.op}`).sort()).toEqual(['B:add', 'B:remove', 'C:add', 'C:remove', 'L:remove', 'N1:add', 'N2:add']);
  });

  it("rowsToSendSql('add') holds back the adds of members whose remove failed; 'remove' sends every remove row", async () => {
    await db.wh.execute(holdBackAddsSql(d, S, t.deliveries, 'r2', '2026-01-01T00:00:00.000Z'));
    const adds = await sendRows<{ row_id: number; email: string }>(db.wh, S, 'add', 'r2');
    expect(adds.map((r) => r.email).sort()).toEqual([h('b2@x.io'), h('n1@x.io'), h('n2@x.io')].sort());
    expect(adds.map((r) => r.row_id)).toEqual([...adds.map((r) => r.row_id)].sort((a, b) => a - b));
    const removes = await sendRows<{ email: string }>(db.wh, S, 'remove', 'r2');
    expect(removes.map((r) => r.email).sort()).toEqual([h('b@x.io'), h('c@x.io'), h('l@x.io')].sort());
  });

  it('member results: sent / noop / failed, and upsert / delete / keep', async () => {
    await seedDeliveries(db.wh, [
      one('r2', 'add', rowOf(parts, 'B', 'add'), 'sent'),
      one('r2', 'add', rowOf(parts, 'B', 'add'), 'failed', 'rejected_b'),
      one('r2', 'add', rowOf(parts, 'N1', 'add'), 'sent'),
      // N2's add: no outcome at all (the run stopped before it)
    ]);
    const results = await memberResults(db.wh, S, 'r2', 'not sent: platform down');
    expect(results.map(({ error_message, ...r }) => r)).toEqual([
      { member_key: 'B', op: 'change', status: 'failed', action: 'delete', error_code: 'rejected_b' }, // old hash removed, new one not added
      { member_key: 'C', op: 'change', status: 'failed', action: 'keep', error_code: 'rejected_c' }, // platform still holds the old hash
      { member_key: 'H1', op: 'remove', status: 'noop', action: 'delete', error_code: null }, // H2 still holds the email
      { member_key: 'L', op: 'remove', status: 'sent', action: 'delete', error_code: null },
      { member_key: 'N1', op: 'add', status: 'sent', action: 'upsert', error_code: null },
      { member_key: 'N2', op: 'add', status: 'failed', action: 'keep', error_code: 'not_sent' },
    ]);
    const message = Object.fromEntries(results.map((r) => [r.member_key, r.error_message]));
    expect(message).toMatchObject({ B: 'platform says rejected_b', N2: 'not sent: platform down', H1: null, L: null, N1: null });
  });

  it('commit advances the snapshot only for accepted changes and records every member change', async () => {
    await seedDeliveries(db.wh, [
      one('r2', 'add', rowOf(parts, 'B', 'add'), 'sent'),
      one('r2', 'add', rowOf(parts, 'B', 'add'), 'failed', 'rejected_b'),
      one('r2', 'add', rowOf(parts, 'N1', 'add'), 'sent'),
    ]);
    await memberResults(db.wh, S, 'r2');
    await commit(db.wh, S, 'r2', T2, 'aud-1');

    const snap = (await readSnapshot(db.wh)).map((r) => [r.member_key, r.email_hash, r.first_synced_at.toISOString(), r.last_synced_at.toISOString()]);
    expect(snap).toEqual([
      ['A', h('a@x.io'), T1, T1], // untouched
      ['C', h('c@x.io'), T1, T1], // keep: the old hash is still at the platform
      ['H2', h('home@x.io'), T1, T1],
      ['N1', h('n1@x.io'), T2, T2],
    ]);
    expect(await changesOf('r2')).toEqual([
      { member_key: 'B', op: 'change', status: 'failed', attempt: 1, error_code: 'rejected_b', sent_at: null },
      { member_key: 'C', op: 'change', status: 'failed', attempt: 1, error_code: 'rejected_c', sent_at: null },
      { member_key: 'H1', op: 'remove', status: 'noop', attempt: 1, error_code: null, sent_at: null },
      { member_key: 'L', op: 'remove', status: 'sent', attempt: 1, error_code: null, sent_at: new Date(T2) },
      { member_key: 'N1', op: 'add', status: 'sent', attempt: 1, error_code: null, sent_at: new Date(T2) },
      { member_key: 'N2', op: 'add', status: 'failed', attempt: 1, error_code: 'not_sent', sent_at: null },
    ]);
    expect(await retries()).toEqual([
      { member_key: 'B', attempts: 1, last_error_code: 'rejected_b' },
      { member_key: 'C', attempts: 1, last_error_code: 'rejected_c' },
      { member_key: 'N2', attempts: 1, last_error_code: 'not_sent' },
    ]);
    expect(await db.query(`SELECT sync_id, destination, platform, audience_id, updated_at FROM ${t.syncState}`)).toEqual([
      { sync_id: SYNC, destination: 'meta', platform: 'meta_custom_audiences', audience_id: 'aud-1', updated_at: new Date(T2) },
    ]);
  });
});

describe('rowOutcomesSql', () => {
  beforeEach(async () => {
    await buildCandidate(db.wh, membersModel([m('A', 'a@x.io'), m('B', 'b@x.io'), m('C', 'c@x.io'), m('D', 'd@x.io')]));
    await buildDelta(db.wh, S);
  });
  const outcomes = (runId = 'r1') => db.query<{ row_id: number; ok: boolean; error_code: string | null }>(
      `SELECT row_id, ok, error_code FROM (${rowOutcomesSql(d, S, t.deliveries, runId)}) o ORDER BY row_id`,
    );

  it('a row is ok when a sent range of this run and sync covers it and no failure names it', async () => {
    await seedDeliveries(db.wh, [
      { run_id: 'r1', sync_id: SYNC, op: 'add', first_row_id: 1, last_row_id: 3, status: 'sent' },
      one('r1', 'add', 2, 'failed', 'bad_hash'),
      { run_id: 'r0', sync_id: SYNC, op: 'add', first_row_id: 4, last_row_id: 4, status: 'sent' }, // another run
      { run_id: 'r1', sync_id: 'other__sync', op: 'add', first_row_id: 4, last_row_id: 4, status: 'sent' }, // another sync
    ]);
    expect(await outcomes()).toEqual([
      { row_id: 1, ok: true, error_code: null },
      { row_id: 2, ok: false, error_code: 'bad_hash' },
      { row_id: 3, ok: true, error_code: null },
      { row_id: 4, ok: false, error_code: null },
    ]);
  });

  it('agrees with joining every row to every range, for any mix of sent and failed ranges', async () => {
    // The definition, as the statement read before it joined rows only to failures and gaps.
    const definition = (runId: string) => `SELECT r.row_id,
        (max(CASE WHEN o.status = 'sent' THEN 1 ELSE 0 END) = 1 AND max(CASE WHEN o.status = 'failed' THEN 1 ELSE 0 END) = 0) AS ok,
        min(CASE WHEN o.status = 'failed' THEN o.error_code END) AS error_code,
        min(CASE WHEN o.status = 'failed' THEN o.error_message END) AS error_message
      FROM (SELECT DISTINCT row_id FROM ${d.quoteIdent(scratch.parts(S.index))}) r
      LEFT JOIN ${t.deliveries} o ON o.run_id = '${runId}' AND o.sync_id = '${SYNC}' AND r.row_id BETWEEN o.first_row_id AND o.last_row_id
      GROUP BY r.row_id`;
    const read = (sql: string) => db.query(`SELECT row_id, ok, error_code, error_message FROM (${sql}) o ORDER BY row_id`);
    const range = fc.record({
      run: fc.constantFrom('r1', 'r1', 'r1', 'r0'),
      sync: fc.constantFrom(SYNC, SYNC, SYNC, 'other__sync'),
      first: fc.integer({ min: 1, max: 6 }),
      length: fc.integer({ min: 1, max: 5 }),
      status: fc.constantFrom('sent', 'sent', 'failed') as fc.Arbitrary<'sent' | 'failed'>,
      code: fc.constantFrom('a', 'b', 'c'),
    });
    let failing = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(range, { maxLength: 7 }), async (ranges) => {
        await db.wh.execute(`DELETE FROM ${t.deliveries}`);
        await seedDeliveries(db.wh, ranges.map((r) => ({
          run_id: r.run, sync_id: r.sync, op: 'add', first_row_id: r.first, last_row_id: r.first + r.length - 1, status: r.status,
          ...(r.status === 'failed' ? { error_code: r.code, error_message: `says ${r.code}` } : {}),
        })));
        const expected = await read(definition('r1'));
        failing += expected.filter((o) => !o.ok).length > 0 && expected.some((o) => o.ok) ? 1 : 0;
        expect(await read(rowOutcomesSql(d, S, t.deliveries, 'r1'))).toEqual(expected);
      }),
      { numRuns: 150 },
    );
    expect(failing).toBeGreaterThan(20); // the samples mixed accepted and refused rows
  });

  it('a failed request fails every row of its range', async () => {
    await seedDeliveries(db.wh, [{ run_id: 'r1', sync_id: SYNC, op: 'add', first_row_id: 1, last_row_id: 4, status: 'failed', error_code: 'retries_exhausted' }]);
    expect((await outcomes()).map((o) => [o.ok, o.error_code])).toEqual(Array(4).fill([false, 'retries_exhausted']));
  });
});

describe('attempts across runs (audsync_retries)', () => {
  const members = [m('A', 'a@x.io'), m('B', 'b@x.io')];
  const failB = (_op: string, row: { email?: string | null }) => (row.email === h('b@x.io') ? 'rejected' : undefined);

  it('count up while a member keeps failing, and start again after it is sent', async () => {
    await syncRun(db.wh, members, { runId: 'r1', fail: failB });
    await syncRun(db.wh, members, { runId: 'r2', fail: failB });
    expect(await changesOf('r2')).toEqual([{ member_key: 'B', op: 'add', status: 'failed', attempt: 2, error_code: 'rejected', sent_at: null }]);
    expect(await retries()).toEqual([{ member_key: 'B', attempts: 2, last_error_code: 'rejected' }]);

    await syncRun(db.wh, members, { runId: 'r3', nowIso: T2 });
    expect(await changesOf('r3')).toEqual([{ member_key: 'B', op: 'add', status: 'sent', attempt: 3, error_code: null, sent_at: new Date(T2) }]);
    expect(await retries()).toEqual([]);
    expect((await readSnapshot(db.wh)).map((r) => r.member_key)).toEqual(['A', 'B']);
  });

  it('a failed run changes no snapshot row (the next run sends the same again)', async () => {
    await syncRun(db.wh, members, { runId: 'r1' });
    const before = await readSnapshot(db.wh);
    const all = () => 'platform_down';
    const second = await syncRun(db.wh, [m('A', 'a2@x.io')], { runId: 'r2', nowIso: T2, fail: all });
    expect(second.results.map((r) => [r.member_key, r.status, r.action])).toEqual([
      ['A', 'failed', 'keep'],
      ['B', 'failed', 'keep'],
    ]);
    expect(await readSnapshot(db.wh)).toEqual(before);
    const third = await syncRun(db.wh, [m('A', 'a2@x.io')], { runId: 'r3', nowIso: T2 });
    expect(third.parts.map((p) => [p.member_key, p.op])).toEqual(second.parts.map((p) => [p.member_key, p.op]));
  });
});

describe("lost parts: a leaver whose plain-text identifier cannot be recovered is dead-lettered", () => {
  const ids = [
    { kind: 'email' as const, rule: { role: 'match' as const, normalizer: 'email', encoding: 'sha256' as const } },
    { kind: 'maid' as const, rule: { role: 'match' as const, normalizer: 'maid', encoding: 'plain' as const } },
  ];
  const S2 = spec({ identifiers: ids });
  const M1 = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
  const M2 = '0f0e0d0c-0b0a-4998-8776-655443322110';
  const modelOf = (rows: [string, string | null, string | null, boolean][]) =>
    model({
      sql: valuesSql({ id: 'VARCHAR', email: 'VARCHAR', maid: 'VARCHAR', consent: 'BOOLEAN' }, rows),
      identifiers: { email: 'email', maid: 'maid' },
    });
  async function run(rows: [string, string | null, string | null, boolean][], runId: string, nowIso: string) {
    await buildCandidate(db.wh, modelOf(rows), ids);
    await buildDelta(db.wh, S2);
    const sent = await deliverSimulated(db.wh, S2, runId);
    const results = await memberResults(db.wh, S2, runId);
    await commit(db.wh, S2, runId, nowIso);
    return { sent, results };
  }

  it("status 'dead', error 'unrecoverable', snapshot row deleted, no retry; a recovered MADID is sent and the member removed", async () => {
    await run([['GONE', null, M1, true], ['QUIT', null, M2, true], ['E', 'e@x.io', null, true]], 'r1', T1);
    expect(await db.query(`SELECT member_key, maid_hash FROM ${t.snapshots} ORDER BY member_key`)).toEqual([
      { member_key: 'E', maid_hash: null },
      { member_key: 'GONE', maid_hash: h(M1) }, // a hash, never the MADID itself
      { member_key: 'QUIT', maid_hash: h(M2) },
    ]);
    // GONE leaves the source; QUIT stays with consent withdrawn.
    const { sent, results } = await run([['QUIT', null, M2, false], ['E', 'e@x.io', null, true]], 'r2', T2);
    expect(sent.remove).toEqual([expect.objectContaining({ maid: M2, email: null })]);
    expect(results.map(({ error_message, ...r }) => r)).toEqual([
      { member_key: 'GONE', op: 'remove', status: 'dead', action: 'delete', error_code: 'unrecoverable' },
      { member_key: 'QUIT', op: 'remove', status: 'sent', action: 'delete', error_code: null },
    ]);
    expect(results[0]!.error_message).toMatch(/plain text.*only its hash.*source row is gone/);
    expect(await changesOf('r2')).toEqual([
      { member_key: 'GONE', op: 'remove', status: 'dead', attempt: 1, error_code: 'unrecoverable', sent_at: null },
      { member_key: 'QUIT', op: 'remove', status: 'sent', attempt: 1, error_code: null, sent_at: new Date(T2) },
    ]);
    expect(await retries()).toEqual([]); // dead is final: nothing to retry
    expect((await readSnapshot(db.wh)).map((r) => r.member_key)).toEqual(['E']);
    // and the next run has nothing left to do for them
    const third = await run([['E', 'e@x.io', null, true]], 'r3', T2);
    expect(third.results).toEqual([]);
  });

  it('a lost part never reaches the platform, even inside a sent range of row ids', async () => {
    await run([['GONE', null, M1, true], ['L', 'l@x.io', null, true]], 'r1', T1);
    await buildCandidate(db.wh, modelOf([]), ids);
    await buildDelta(db.wh, S2);
    const parts = await db.query<{ member_key: string; op: string; row_id: number }>(`SELECT member_key, op, row_id FROM "_audsync_parts_0" ORDER BY row_id`);
    expect(parts.map((p) => [p.member_key, p.op])).toEqual([
      ['GONE', 'lost'],
      ['L', 'remove'],
    ]);
    // a request whose range covers every row id: the lost member is still dead, not sent
    await seedDeliveries(db.wh, [{ run_id: 'r2', sync_id: S2.syncId, op: 'remove', first_row_id: 0, last_row_id: 99, status: 'sent' }]);
    const results = await memberResults(db.wh, S2, 'r2');
    expect(results.map((r) => [r.member_key, r.status, r.action, r.error_code])).toEqual([
      ['GONE', 'dead', 'delete', 'unrecoverable'],
      ['L', 'sent', 'delete', null],
    ]);
  });
});

describe('encoded batches on DuckDB', () => {
  it('come as UTF-8 bytes (a buffer outside the JS heap) holding the JSON array of the rows of their id range', async () => {
    await buildCandidate(db.wh, membersModel([m('A', 'a@x.io'), m('B', 'b@x.io'), m('C', 'c@x.io')]));
    await buildDelta(db.wh, S);
    const byRowId = new Map((await readParts(db.wh, S)).map((p) => [p.row_id, [p.email]]));
    // Batches in any order (encodedBatches sorts them), and each batch's rows in any order.
    const batches = (
      await db.query<{ first_row_id: number; last_row_id: number; row_count: number; rows_json: unknown }>(encodedBatchesSql(d, S, 'add', t.deliveries, 'r1', { from: 1, to: 3 }, 2, false))
    ).sort((a, b) => a.first_row_id - b.first_row_id);
    expect(batches.map((b) => [b.first_row_id, b.last_row_id, b.row_count])).toEqual([[1, 2, 2], [3, 3, 1]]);
    for (const b of batches) {
      expect(Buffer.isBuffer(b.rows_json)).toBe(true);
      const rows = JSON.parse((b.rows_json as Buffer).toString('utf8')) as string[][];
      const expected = [];
      for (let id = b.first_row_id; id <= b.last_row_id; id++) expected.push(byRowId.get(id));
      expect(rows.sort()).toEqual(expected.sort());
    }
    expect([...byRowId.values()].flat().sort()).toEqual([h('a@x.io'), h('b@x.io'), h('c@x.io')].sort());
  });

  it('leave out the rows this run holds back, only when asked to look for them', async () => {
    await buildCandidate(db.wh, membersModel([m('A', 'a@x.io'), m('B', 'b@x.io'), m('C', 'c@x.io')]));
    await buildDelta(db.wh, S);
    await seedDeliveries(db.wh, [one('r1', 'add', 2, 'failed', 'held_back')]);
    const batch = async (heldBack: boolean) => {
      const [b] = await db.query<{ row_count: number; rows_json: Buffer }>(encodedBatchesSql(d, S, 'add', t.deliveries, 'r1', { from: 1, to: 3 }, 10, heldBack));
      return [Number(b!.row_count), (JSON.parse(b!.rows_json.toString('utf8')) as string[][]).length];
    };
    expect(await batch(true)).toEqual([2, 2]);
    expect(await batch(false)).toEqual([3, 3]);
  });
});

describe('encoded batches: members sharing identifiers', () => {
  it('send their shared row once, under its one row id', async () => {
    // H1 and H2 share one household email: one part each, one row_id, one row sent.
    await buildCandidate(db.wh, membersModel([m('A', 'a@x.io'), m('H1', 'home@x.io'), m('H2', 'home@x.io'), m('Z', 'z@x.io')]));
    await buildDelta(db.wh, S);
    const parts = await db.query<{ member_key: string; row_id: number }>(`SELECT member_key, row_id FROM ${scratch.parts(S.index)} ORDER BY member_key`);
    expect(new Set(parts.map((p) => p.row_id)).size).toBe(3);
    const batches = await db.query<{ first_row_id: number; last_row_id: number; row_count: number; rows_json: Buffer }>(
      encodedBatchesSql(d, S, 'add', t.deliveries, 'r1', { from: 1, to: 3 }, 10),
    );
    expect(batches.map((b) => [b.first_row_id, b.last_row_id, b.row_count])).toEqual([[1, 3, 3]]);
    const rows = JSON.parse(batches[0]!.rows_json.toString('utf8')) as string[][];
    expect(rows.map((r) => r[0]).sort()).toEqual([h('a@x.io'), h('home@x.io'), h('z@x.io')].sort());
  });
});

describe('commit SQL', () => {
  it('freshStart deletes the sync\'s whole snapshot before writing what was sent', async () => {
    await syncRun(db.wh, [m('A', 'a@x.io'), m('B', 'b@x.io')], { runId: 'r1' });
    await syncRun(db.wh, [m('A', 'a@x.io')], { runId: 'r2', nowIso: T2, spec: { freshStart: true } });
    expect((await readSnapshot(db.wh)).map((r) => [r.member_key, r.first_synced_at.toISOString()])).toEqual([['A', T2]]);
  });

  it('writes changes before reading them into retries, and touches only its own sync', () => {
    const statements = commitSql(d, S, t, { runId: "r'1", nowIso: T2, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'aud' });
    expect(statements[0]).toMatch(/^INSERT INTO "audsync"\.audsync_changes /);
    expect(statements.findIndex((s) => s.startsWith(`INSERT INTO "audsync".audsync_retries`))).toBeGreaterThan(0);
    for (const s of statements.filter((s) => /^DELETE/.test(s))) expect(s).toContain(`sync_id = 'buyers__meta'`);
    expect(statements.join('\n')).toContain(`'r''1'`);
    expect(statements.join('\n')).toContain(`CAST('2026-02-01 00:00:00.000' AS TIMESTAMP)`);
  });

  it("records each change with its source row's updated_at, and a failure's retry with the member's fingerprint", async () => {
    const updated = model({
      sql: `SELECT * FROM (VALUES ('U1', 'u1@x.io', TRUE, TIMESTAMP '2026-03-01 12:00:00'), ('U2', 'u2@x.io', TRUE, TIMESTAMP '2026-03-02 08:30:00')) v(id, email, consent, updated)`,
      updatedAt: 'updated',
    });
    await buildCandidate(db.wh, updated);
    await buildDelta(db.wh, S);
    await deliverSimulated(db.wh, S, 'r1', (_op, row) => (row.email === h('u2@x.io') ? 'rejected' : undefined));
    await memberResults(db.wh, S, 'r1');
    await commit(db.wh, S, 'r1', T1);
    expect(await db.query(`SELECT member_key, status, source_updated_at FROM ${t.changes} WHERE run_id = 'r1' ORDER BY member_key`)).toEqual([
      { member_key: 'U1', status: 'sent', source_updated_at: new Date('2026-03-01T12:00:00Z') },
      { member_key: 'U2', status: 'failed', source_updated_at: new Date('2026-03-02T08:30:00Z') },
    ]);
    const [delta] = await db.query<{ fingerprint: unknown }>(`SELECT fingerprint FROM ${d.quoteIdent(scratch.delta(S.index))} WHERE member_key = 'U2'`);
    expect(await db.query(`SELECT member_key, attempts, fingerprint FROM ${t.retries}`)).toEqual([{ member_key: 'U2', attempts: 1, fingerprint: delta!.fingerprint }]);
  });

  it('leaves out the cleanup of old retries when the sync had none, and keeps it otherwise', () => {
    const base = { runId: 'r1', nowIso: T2, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'aud' };
    const cleanups = (c: typeof base & { noRetries?: boolean }) => commitSql(d, S, t, c).filter((s) => s.startsWith('DELETE FROM "audsync".audsync_retries'));
    expect(cleanups(base)).toHaveLength(2);
    expect(cleanups({ ...base, noRetries: false })).toHaveLength(2);
    expect(cleanups({ ...base, noRetries: true })).toEqual([]);
  });

  it('leaves out the insert into audsync_retries when no member failed, and keeps it otherwise', () => {
    const base = { runId: 'r1', nowIso: T2, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'aud' };
    const inserts = (c: typeof base & { noFailures?: boolean }) => commitSql(d, S, t, c).filter((s) => s.startsWith('INSERT INTO "audsync".audsync_retries'));
    expect(inserts(base)).toHaveLength(1);
    expect(inserts({ ...base, noFailures: false })).toHaveLength(1);
    expect(inserts({ ...base, noFailures: true })).toEqual([]);
  });

  it('leaves out the source-fingerprint refresh on a first sync, whose snapshot held no member to refresh', () => {
    const base = { runId: 'r1', nowIso: T2, destination: 'meta', platform: 'meta_custom_audiences', audienceId: 'aud' };
    const refresh = (c: typeof base & { snapshotWasEmpty?: boolean }) =>
      commitSql(d, { ...S, sourceFingerprint: true }, t, c).filter((s) => s.startsWith('UPDATE "audsync".audsync_snapshots SET source_fingerprint'));
    expect(refresh(base)).toHaveLength(1);
    expect(refresh({ ...base, snapshotWasEmpty: false })).toHaveLength(1);
    expect(refresh({ ...base, snapshotWasEmpty: true })).toEqual([]);
  });
});

// ---- product bugs --------------------------------------------------------------------------------

describe('delivery rows with gaps (outcome.ts rowsToSendSql vs delivery/batcher.ts)', () => {
  // batcher.ts and deliver.ts assume "row ids in a batch are contiguous": a request's outcome is one
  // range first..last, and a rejected row is firstRowId + its index in the batch. rowsToSendSql('add')
  // drops the add rows of members whose remove failed, leaving gaps inside a request's range.
  /** Three emails in the order of their hashes, so their add rows are numbered in that order. */
  const byHash = (...emails: string[]) => [...emails].sort((x, y) => h(x).localeCompare(h(y)));
  const rejectOld = (email: string) => (op: string, row: { email?: string | null }) => (op === 'remove' && row.email === h(email) ? 'rejected' : undefined);

  // Regression test (this was a bug, since fixed).
  it('a rejected add is pinned on the right row when a held-back row precedes it in the request', async () => {
    const [e, c, p] = byHash('e1@x.io', 'e2@x.io', 'e3@x.io');
    await syncRun(db.wh, [m('C', 'c-old@x.io')], { runId: 'r1' });
    // C's move to c is held back (its old email's removal is rejected); the platform rejects P's add.
    const fail = (op: string, row: { email?: string | null }) => rejectOld('c-old@x.io')(op, row) ?? (row.email === h(p!) ? 'rejected' : undefined);
    const run = await syncRun(db.wh, [m('C', c!), m('E', e!), m('P', p!)], { runId: 'r2', deliver: 'runner', fail });
    expect(run.sent.add.map((r) => r.email)).toEqual([h(e!), h(p!)]); // one request, C's row held back
    expect(run.results.find((r) => r.member_key === 'P')).toMatchObject({ status: 'failed', action: 'keep' });
  });

  // Regression test (this was a bug, since fixed).
  it('a newcomer sharing the held-back email is sent eventually (not recorded as sent when it was not)', async () => {
    const [e, y, p] = byHash('e1@x.io', 'e2@x.io', 'e3@x.io');
    await syncRun(db.wh, [m('M', 'x@x.io')], { runId: 'r1' });
    // r2: M moves to y, but removing x is rejected, so y's add row is held back, and with it N's
    // (same email, same row). E and P around it are sent in one request whose range covers y's row.
    const members = [m('M', y!), m('N', y!), m('E', e!), m('P', p!)];
    const r2 = await syncRun(db.wh, members, { runId: 'r2', deliver: 'runner', fail: rejectOld('x@x.io') });
    const r3 = await syncRun(db.wh, members, { runId: 'r3', deliver: 'runner' });
    const everSent = [...r2.sent.add, ...r3.sent.add].map((r) => r.email);
    expect(everSent).toContain(h(y!)); // the audience must end up holding y (M and N are members)
  });
});

describe('a failed add of a member whose identifiers stay at the platform', () => {
  // A full refresh (resendAll) re-adds unchanged members as 'change'. When that add fails, the member's
  // result is 'delete': its snapshot row goes, although the platform still holds its hash from the
  // earlier sync. If the member then leaves (here: withdraws consent), no snapshot row remains to
  // remove it from, and the hash stays in the audience for good (invariants 1 and 3).
  // Regression test (this was a bug, since fixed).
  it('the member is still removed when it leaves after the failed full refresh', async () => {
    await syncRun(db.wh, [m('A', 'a@x.io'), m('B', 'b@x.io')], { runId: 'r1' });
    const failA = (_op: string, row: { email?: string | null }) => (row.email === h('a@x.io') ? 'rejected' : undefined);
    await syncRun(db.wh, [m('A', 'a@x.io'), m('B', 'b@x.io')], { runId: 'r2', spec: { resendAll: true }, fail: failA });
    const third = await syncRun(db.wh, [{ id: 'A', email: 'a@x.io', consent: false }, m('B', 'b@x.io')], { runId: 'r3' });
    expect(third.sent.remove.map((r) => r.email)).toEqual([h('a@x.io')]);
  });
});
