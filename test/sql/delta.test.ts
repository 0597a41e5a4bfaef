// delta.ts: the member-level delta against the snapshot and the delivery parts, on DuckDB. Prior
// state comes from a whole earlier sync (syncRun) or from snapshot rows written by hand.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { audienceSizeSql, deltaCountsSql, deltaSql } from '../../src/warehouse/sql/delta.js';
import { partCountsSql, partsSql } from '../../src/warehouse/sql/parts.js';
import { memberCountsSql } from '../../src/warehouse/sql/members.js';
import {
  buildCandidate, buildDelta, d, membersModel, openDb, readDelta, readParts, seedSnapshot, sha256, spec, syncRun, t, valuesSql,
  type Member, type TestDb,
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
const ANA = { id: 'A', email: 'Ana@Example.com' };
const BO = { id: 'B', email: ' bo@example.com ' };
const H1 = { id: 'H1', email: 'household@example.com' };
const H2 = { id: 'H2', email: 'HOUSEHOLD@example.com ' };
const base: Member[] = [ANA, BO, H1, H2];

/** Candidate + delta + parts for `members` against the current snapshot. */
async function diff(members: Member[], over: Parameters<typeof spec>[0] = {}) {
  const s = spec(over);
  await buildCandidate(db.wh, membersModel(members));
  await buildDelta(db.wh, s);
  return { s, delta: await readDelta(db.wh, s), parts: await readParts(db.wh, s) };
}
const sendable = async (op: 'add' | 'remove', over: Parameters<typeof spec>[0] = {}) =>
  sendRows<{ row_id: number; email: string }>(db.wh, spec(over), op, 'no-run-yet');

describe('first sync (empty snapshot)', () => {
  it('adds every eligible member with the hash of its normalized email; skips no-consent, invalid, NULL keys', async () => {
    const members: Member[] = [
      ...base,
      { id: 'X', email: 'x@example.com', consent: false },
      { id: 'Y', email: 'y@example.com', consent: null },
      { id: 'I', email: 'not-an-email' },
      { id: 'N', email: null },
      { id: null, email: 'nokey@example.com' },
    ];
    const { delta, parts } = await diff(members);
    expect(delta).toEqual([
      { member_key: 'A', op: 'add', new_email: h('ana@example.com'), old_email: null },
      { member_key: 'B', op: 'add', new_email: h('bo@example.com'), old_email: null },
      { member_key: 'H1', op: 'add', new_email: h('household@example.com'), old_email: null },
      { member_key: 'H2', op: 'add', new_email: h('household@example.com'), old_email: null },
    ]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual(delta.map((r) => [r.member_key, 'add', r.new_email]));
    // present/invalid per kind count consented, not held-out rows: I is invalid; N has no email at all
    // (invalid as a member, but nothing present); X and Y lack consent.
    expect(await db.query(memberCountsSql(d, spec()))).toEqual([
      { present_email: 5, invalid_email: 1, no_consent: 2, held_out: 0, invalid: 2, members: 4 },
    ]);
  });

  it('numbers parts so members sharing an email share one row id, sent once', async () => {
    const { parts } = await diff(base);
    const rowOf = Object.fromEntries(parts.map((p) => [p.member_key, p.row_id]));
    expect(rowOf.H1).toBe(rowOf.H2);
    expect(new Set(Object.values(rowOf)).size).toBe(3);
    expect((await sendable('add')).map((r) => r.email).sort()).toEqual([h('ana@example.com'), h('bo@example.com'), h('household@example.com')].sort());
  });

  it('excludes held-out members from the delta and counts them', async () => {
    const m = { ...membersModel(base), holdout: { percent: 100, salt: 's' } };
    await buildCandidate(db.wh, m);
    await buildDelta(db.wh, spec());
    expect(await readDelta(db.wh, spec())).toEqual([]);
    expect(await db.query(memberCountsSql(d, spec()))).toEqual([{ present_email: 0, invalid_email: 0, no_consent: 0, held_out: 4, invalid: 0, members: 0 }]);
  });
});

describe('against the snapshot of an earlier sync', () => {
  beforeEach(async () => {
    await syncRun(db.wh, base, { runId: 'r1' });
  });

  it('nothing changed: empty delta, nothing to send (idempotence); case and padding changes are no change', async () => {
    const { delta, parts } = await diff([{ id: 'A', email: '  ANA@example.COM' }, BO, H1, H2]);
    expect(delta).toEqual([]);
    expect(parts).toEqual([]);
  });

  it('a member who leaves is removed with the hash the snapshot holds', async () => {
    const { delta, parts } = await diff([ANA, H1, H2]);
    expect(delta).toEqual([{ member_key: 'B', op: 'remove', new_email: null, old_email: h('bo@example.com') }]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([['B', 'remove', h('bo@example.com')]]);
  });

  it('withdrawn consent, an email turned invalid, or a holdout removes the member', async () => {
    const { delta } = await diff([{ ...ANA, consent: false }, { id: 'B', email: 'bo at example.com' }, H1, H2]);
    expect(delta.map((r) => [r.member_key, r.op])).toEqual([
      ['A', 'remove'],
      ['B', 'remove'],
    ]);
  });

  it('an email change removes the old hash and adds the new one', async () => {
    const { delta, parts } = await diff([{ id: 'A', email: 'ana@new.example' }, BO, H1, H2]);
    expect(delta).toEqual([{ member_key: 'A', op: 'change', new_email: h('ana@new.example'), old_email: h('ana@example.com') }]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([
      ['A', 'add', h('ana@new.example')],
      ['A', 'remove', h('ana@example.com')],
    ]);
    expect(parts[0]!.row_id).not.toBe(parts[1]!.row_id);
  });

  it('a shared email is removed only when its last member leaves', async () => {
    const first = await diff([ANA, BO, H2]);
    expect(first.delta.map((r) => [r.member_key, r.op])).toEqual([['H1', 'remove']]);
    expect(first.parts).toEqual([]); // H2 still holds it

    const both = await diff([ANA, BO]);
    expect(both.parts.map((p) => [p.member_key, p.op, p.email])).toEqual([
      ['H1', 'remove', h('household@example.com')],
      ['H2', 'remove', h('household@example.com')],
    ]);
    expect(both.parts[0]!.row_id).toBe(both.parts[1]!.row_id);
    expect(await sendable('remove')).toEqual([{ row_id: both.parts[0]!.row_id, email: h('household@example.com') }]);
  });

  it('a shared email is not removed when its member moves to an email another member holds, nor re-added', async () => {
    const { parts } = await diff([{ id: 'A', email: 'bo@example.com' }, BO, H1, H2]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([['A', 'remove', h('ana@example.com')]]);
  });

  it('a newcomer with an email the audience already holds needs nothing sent', async () => {
    const { delta, parts } = await diff([...base, { id: 'H3', email: 'Household@Example.com' }]);
    expect(delta.map((r) => [r.member_key, r.op])).toEqual([['H3', 'add']]);
    expect(parts).toEqual([]);
  });

  it('one member leaving while another arrives with the same email sends nothing', async () => {
    const { delta, parts } = await diff([ANA, H1, H2, { id: 'B2', email: 'BO@example.com' }]);
    expect(delta.map((r) => [r.member_key, r.op])).toEqual([
      ['B', 'remove'],
      ['B2', 'add'],
    ]);
    expect(parts).toEqual([]);
  });

  it('add_only never removes: leavers are not in the delta, a changed email is only added', async () => {
    const { delta, parts } = await diff([{ id: 'A', email: 'ana@new.example' }, H1], { mode: 'add_only' });
    expect(delta.map((r) => [r.member_key, r.op])).toEqual([['A', 'change']]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([['A', 'add', h('ana@new.example')]]);
    const sql = partsSql(d, spec({ mode: 'add_only' }), t.snapshots);
    expect(sql).not.toContain("'remove' AS op");
  });

  it('resendAll re-adds every eligible member (shared emails once) and still removes leavers in mirror mode', async () => {
    const { delta, parts } = await diff([ANA, H1, H2], { resendAll: true });
    expect(delta.map((r) => [r.member_key, r.op])).toEqual([
      ['A', 'change'],
      ['B', 'remove'],
      ['H1', 'change'],
      ['H2', 'change'],
    ]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([
      ['A', 'add', h('ana@example.com')],
      ['H1', 'add', h('household@example.com')],
      ['H2', 'add', h('household@example.com')],
      ['B', 'remove', h('bo@example.com')],
    ]);
    expect((await sendable('add', { resendAll: true })).map((r) => r.email).sort()).toEqual([h('ana@example.com'), h('household@example.com')].sort());
  });

  it('freshStart ignores the snapshot: everyone is added, nobody removed', async () => {
    const { delta, parts } = await diff([ANA, H1], { freshStart: true });
    expect(delta.map((r) => [r.member_key, r.op, r.old_email])).toEqual([
      ['A', 'add', null],
      ['H1', 'add', null],
    ]);
    expect(parts.map((p) => [p.member_key, p.op])).toEqual([
      ['A', 'add'],
      ['H1', 'add'],
    ]);
  });

  it('changing how a kind is encoded changes every fingerprint, so every member is sent again', async () => {
    const plain = { identifiers: [{ kind: 'email' as const, rule: { role: 'match' as const, normalizer: 'email', encoding: 'plain' as const } }] };
    const { delta } = await diff(base, plain);
    expect(delta.map((r) => [r.member_key, r.op, r.new_email])).toEqual([
      ['A', 'change', 'ana@example.com'],
      ['B', 'change', 'bo@example.com'],
      ['H1', 'change', 'household@example.com'],
      ['H2', 'change', 'household@example.com'],
    ]);
  });

  it('counts a row that members share once: two newcomers with one email are one add to send', async () => {
    const { s, parts } = await diff([{ id: 'N1', email: 'shared@example.com' }, { id: 'N2', email: ' Shared@Example.com ' }, { id: 'N3', email: 'n3@example.com' }], { freshStart: true });
    expect(parts.filter((p) => p.op === 'add').map((p) => p.member_key).sort()).toEqual(['N1', 'N2', 'N3']);
    expect(new Set(parts.map((p) => p.row_id)).size).toBe(2);
    expect(await db.query(partCountsSql(d, s))).toEqual([{ op: 'add', n: 2 }]);
  });

  it('counts members per op, delivery rows per op (shared rows once) and the audience size', async () => {
    const s = spec();
    await diff([ANA, { id: 'B', email: 'b2@example.com' }, { id: 'H3', email: 'household@example.com' }]);
    const byOp = async (sql: string) => Object.fromEntries((await db.query<{ op: string; n: number }>(sql)).map((r) => [r.op, r.n]));
    expect(await byOp(deltaCountsSql(d, s))).toEqual({ add: 1, change: 1, remove: 2 });
    expect(await byOp(partCountsSql(d, s))).toEqual({ add: 1, remove: 1 }); // H1+H2 leave, H3 keeps the household email
    expect(await db.query(audienceSizeSql(d, s, t.snapshots))).toEqual([{ n: 4 }]);
    expect(await db.query(audienceSizeSql(d, spec({ freshStart: true }), t.snapshots))).toEqual([{ n: 0 }]);
  });

  it('keeps another sync\'s snapshot out of this delta', async () => {
    const { delta } = await diff(base, { syncId: 'buyers__google' });
    expect(delta.map((r) => r.op)).toEqual(['add', 'add', 'add', 'add']);
  });
});

describe('removal safety with snapshot rows written by hand', () => {
  it('removes what the snapshot says was sent, even when the source no longer has the row', async () => {
    await seedSnapshot(db.wh, 'buyers__meta', [
      { member_key: 'GONE', email_hash: 'a'.repeat(64) },
      { member_key: 'A', email_hash: h('old@example.com') },
    ]);
    const { delta, parts } = await diff([ANA]);
    expect(delta).toEqual([
      { member_key: 'A', op: 'change', new_email: h('ana@example.com'), old_email: h('old@example.com') },
      { member_key: 'GONE', op: 'remove', new_email: null, old_email: 'a'.repeat(64) },
    ]);
    expect(parts.map((p) => [p.member_key, p.op, p.email])).toEqual([
      ['A', 'add', h('ana@example.com')],
      ['A', 'remove', h('old@example.com')],
      ['GONE', 'remove', 'a'.repeat(64)],
    ]);
  });

  it('freshStart reads no snapshot row at all (WHERE FALSE)', async () => {
    await seedSnapshot(db.wh, 'buyers__meta', [{ member_key: 'GONE', email_hash: 'a'.repeat(64) }]);
    expect((await diff([], { freshStart: true })).delta).toEqual([]);
    expect(deltaSql(d, spec({ freshStart: true }), t.snapshots)).toContain('WHERE FALSE)');
  });
});

describe('several kinds: a match key shared, another not, an attribute riding along', () => {
  // email and external_id are match keys (hashed); country is an attribute sent in plain text.
  const ids = [
    { kind: 'email' as const, rule: { role: 'match' as const, normalizer: 'email', encoding: 'sha256' as const } },
    { kind: 'external_id' as const, rule: { role: 'match' as const, normalizer: 'trimmed', encoding: 'sha256' as const } },
    { kind: 'country' as const, rule: { role: 'attribute' as const, normalizer: 'trimmed', encoding: 'plain' as const } },
  ];
  const modelOf = (rows: [string, string, string, boolean?][]) => ({
    ...membersModel([]),
    identifiers: { email: 'email', external_id: 'id', country: 'country' },
    sql: `SELECT * FROM (VALUES ${rows.map((r) => `('${r[0]}', '${r[1]}', '${r[2]}', ${r[3] ?? true})`).join(', ')}) v(id, email, country, consent)`,
  });
  const parts = () =>
    db.query(`SELECT member_key, op, email, external_id, country FROM "_audsync_parts_0" ORDER BY op, member_key`);
  const s = spec({ identifiers: ids });

  /** First sync of P and Q (sharing an email), committed by hand as commit.ts does: storedColumn's columns. */
  async function firstSync() {
    await buildCandidate(db.wh, modelOf([['P', 'fam@example.com', 'US'], ['Q', 'fam@example.com', 'FR']]), ids);
    await buildDelta(db.wh, s);
    expect(await parts()).toEqual([
      { member_key: 'P', op: 'add', email: h('fam@example.com'), external_id: h('P'), country: 'US' },
      { member_key: 'Q', op: 'add', email: h('fam@example.com'), external_id: h('Q'), country: 'FR' },
    ]);
    await db.wh.execute(`INSERT INTO ${t.snapshots} (sync_id, member_key, email_hash, external_id_hash, country_hash, fingerprint, first_synced_at, last_synced_at)
      SELECT 'buyers__meta', member_key, new_email, new_external_id, newh_country, fingerprint, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01' FROM "_audsync_delta_0"`);
    // The snapshot keeps no plain value: the plain country is stored as its hash.
    expect(await db.query(`SELECT member_key, country_hash FROM ${t.snapshots} ORDER BY member_key`)).toEqual([
      { member_key: 'P', country_hash: h('US') },
      { member_key: 'Q', country_hash: h('FR') },
    ]);
  }

  it('a leaver (consent withdrawn) sharing its email removes only its own external id, with its plain attribute recovered', async () => {
    await firstSync();
    await buildCandidate(db.wh, modelOf([['P', 'fam@example.com', 'US', false], ['Q', 'fam@example.com', 'FR']]), ids);
    await buildDelta(db.wh, s);
    expect(await parts()).toEqual([{ member_key: 'P', op: 'remove', email: null, external_id: h('P'), country: 'US' }]);
  });

  it('a leaver whose source row is gone still removes its hashed external id; its plain attribute cannot be recovered', async () => {
    await firstSync();
    await buildCandidate(db.wh, modelOf([['Q', 'fam@example.com', 'FR']]), ids);
    await buildDelta(db.wh, s);
    expect(await parts()).toEqual([{ member_key: 'P', op: 'remove', email: null, external_id: h('P'), country: null }]);
  });

  it('a plain value is recovered only while the source row still hashes to what the snapshot holds', async () => {
    await firstSync();
    // P withdraws consent and its row now says FR: the old 'US' is not what the row holds, so nothing is recovered.
    await buildCandidate(db.wh, modelOf([['P', 'fam@example.com', 'FR', false], ['Q', 'fam@example.com', 'FR']]), ids);
    await buildDelta(db.wh, s);
    const delta = await db.query(`SELECT member_key, op, new_country, newh_country, oldh_country, old_country FROM "_audsync_delta_0"`);
    expect(delta).toEqual([{ member_key: 'P', op: 'remove', new_country: null, newh_country: null, oldh_country: h('US'), old_country: null }]);
  });
});

describe('plain-text match kinds (Meta MADID, EXTERN_ID): hashes in the snapshot, plain values sent', () => {
  const MAID = { kind: 'maid' as const, rule: { role: 'match' as const, normalizer: 'maid', encoding: 'plain' as const } };
  const EMAIL = { kind: 'email' as const, rule: { role: 'match' as const, normalizer: 'email', encoding: 'sha256' as const } };
  const ids = [EMAIL, MAID];
  const s = spec({ identifiers: ids });
  const M1 = '6D92078A-8246-4BA4-AE5B-76104861E7DC';
  const M2 = 'b2c2f4a1-0c1d-4e8f-9a6b-3d5e7f9a1c2e';
  const modelOf = (rows: [string, string | null, string | null, boolean?][]) => ({
    ...membersModel([]),
    identifiers: { email: 'email', maid: 'maid' },
    sql: valuesSql({ id: 'VARCHAR', email: 'VARCHAR', maid: 'VARCHAR', consent: 'BOOLEAN' }, rows.map((r) => [r[0], r[1], r[2], r[3] ?? true])),
  });
  const readDeltaAll = () =>
    db.query(`SELECT member_key, op, new_maid, newh_maid, oldh_maid, old_maid FROM "_audsync_delta_0" ORDER BY member_key`);
  const readPartsAll = () => db.query(`SELECT member_key, op, email, maid FROM "_audsync_parts_0" ORDER BY op, member_key`);
  async function sync(rows: [string, string | null, string | null, boolean?][]) {
    await buildCandidate(db.wh, modelOf(rows), ids);
    await buildDelta(db.wh, s);
  }
  /** Commits every delta member as sent, as commit.ts would after a clean delivery. */
  async function commitAll() {
    await db.wh.execute(`DELETE FROM ${t.snapshots} WHERE member_key IN (SELECT member_key FROM "_audsync_delta_0")`);
    await db.wh.execute(`INSERT INTO ${t.snapshots} (sync_id, member_key, email_hash, maid_hash, fingerprint, first_synced_at, last_synced_at)
      SELECT 'buyers__meta', member_key, new_email, newh_maid, fingerprint, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01' FROM "_audsync_delta_0" WHERE op <> 'remove'`);
  }

  it('adds send the normalized MADID itself; the delta keeps its hash for the snapshot', async () => {
    await sync([['A', null, ` ${M1} `]]);
    expect(await readDeltaAll()).toEqual([{ member_key: 'A', op: 'add', new_maid: M1.toLowerCase(), newh_maid: h(M1.toLowerCase()), oldh_maid: null, old_maid: null }]);
    expect(await readPartsAll()).toEqual([{ member_key: 'A', op: 'add', email: null, maid: M1.toLowerCase() }]);
  });

  it('a MADID-only leaver still in the source (consent withdrawn) is removed with its plain MADID recovered', async () => {
    await sync([['A', null, M1]]);
    await commitAll();
    await sync([['A', null, M1.toUpperCase(), false]]);
    expect(await readDeltaAll()).toEqual([{ member_key: 'A', op: 'remove', new_maid: null, newh_maid: null, oldh_maid: h(M1.toLowerCase()), old_maid: M1.toLowerCase() }]);
    expect(await readPartsAll()).toEqual([{ member_key: 'A', op: 'remove', email: null, maid: M1.toLowerCase() }]);
  });

  it("a MADID-only leaver whose row is gone becomes a 'lost' part: nothing sendable, nothing sent", async () => {
    await sync([['A', null, M1], ['B', 'b@x.io', null]]);
    await commitAll();
    await sync([['B', 'b@x.io', null]]);
    expect(await readPartsAll()).toEqual([{ member_key: 'A', op: 'lost', email: null, maid: null }]);
    expect(await sendRows(db.wh, s, 'remove', 'r2')).toEqual([]);
    expect(await sendRows(db.wh, s, 'add', 'r2')).toEqual([]);
    const byOp = Object.fromEntries((await db.query<{ op: string; n: number }>(partCountsSql(d, s))).map((r) => [r.op, r.n]));
    expect(byOp).toEqual({ lost: 1 });
  });

  it('a leaver whose row is gone, with an email and a MADID, is removed by its email (no lost part)', async () => {
    await sync([['A', 'a@x.io', M1]]);
    await commitAll();
    await sync([]);
    expect(await readPartsAll()).toEqual([{ member_key: 'A', op: 'remove', email: h('a@x.io'), maid: null }]);
  });

  it('a shared MADID stays while another member holds it; no lost part for a leaver whose identifiers are all still held', async () => {
    await sync([['A', null, M1], ['B', null, M1]]);
    await commitAll();
    await sync([['B', null, M1]]);
    expect(await readPartsAll()).toEqual([]);
  });

  it('add_only never produces lost parts', async () => {
    await sync([['A', null, M1]]);
    await commitAll();
    await buildCandidate(db.wh, modelOf([]), ids);
    await buildDelta(db.wh, { ...s, mode: 'add_only' });
    expect(await readPartsAll()).toEqual([]);
  });

  // A member whose MADID changes: the old MADID is orphaned, and it cannot be sent (only its hash is
  // kept and the source row now holds the new one). partsSql makes 'lost' parts only for members
  // leaving ("a member changing identifiers still has its new ones tracked"), so the old MADID is
  // neither removed nor reported: the change counts as sent, the snapshot forgets the old MADID, and
  // the platform keeps it for good, with no trace in audsync_changes.
  // it.fails: a certain gap (the audience holds an identifier no member has, silently); remove `.fails` once fixed.
  it.fails('a member whose MADID changes: the old one is removed, or the change is reported as not fully applied', async () => {
    await sync([['A', null, M1]]);
    await commitAll();
    await sync([['A', null, M2]]);
    const parts = await readPartsAll();
    expect(parts).toContainEqual({ member_key: 'A', op: 'add', email: null, maid: M2 });
    const removesOld = parts.some((p) => p.op === 'remove' && p.maid === M1.toLowerCase());
    const reported = parts.some((p) => p.op === 'lost');
    expect(removesOld || reported).toBe(true);
  });
});
