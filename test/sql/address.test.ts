// A Google address (hashed given and family names, region and postal code in plain text) as one
// identifier, on the SQL steps alone, run for real on DuckDB and on Postgres (AUDSYNC_TEST_PG_URL,
// see test/support/postgres.ts): the delivery rows each step produces (what Google would be sent),
// the snapshot's address_key, the commit filling in keys of rows written before migration 4, and a
// key that cannot be rebuilt reported as a lost part. Both engines must give the same rows.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentifierKind } from '../../src/core/identifiers.js';
import { dataManagerCapabilities } from '../../src/platforms/google/capabilities.js';
import { candidateSql } from '../../src/warehouse/sql/candidate.js';
import { commitSql } from '../../src/warehouse/sql/commit.js';
import { deltaSql, type SyncSqlSpec } from '../../src/warehouse/sql/delta.js';
import { partsSql } from '../../src/warehouse/sql/parts.js';
import { literal, type SqlDialect } from '../../src/warehouse/sql/dialect.js';
import { scratch } from '../../src/warehouse/sql/names.js';
import { holdBackAddsSql, memberResultsSql, rowsToSendSql, unpackRows } from '../../src/warehouse/sql/outcome.js';
import { openEngine, type Engine } from './engines.js';
import { model } from './support.js';

const sha = (v: string) => createHash('sha256').update(v, 'utf8').digest('hex');
const NOW = '2026-02-01T00:00:00.000Z';

const KINDS: IdentifierKind[] = ['email', 'first_name', 'last_name', 'zip', 'country'];
const spec: SyncSqlSpec = {
  syncId: 'people__google',
  index: 0,
  model: 'people',
  mode: 'mirror',
  identifiers: KINDS.map((kind) => ({ kind, rule: dataManagerCapabilities.identifiers[kind]! })),
  address: dataManagerCapabilities.address,
  freshStart: false,
  resendAll: false,
};


type Person = [id: string, email: string | null, first: string | null, last: string | null, zip: string | null, country: string | null, consent?: boolean];
const COLUMNS = ['id', 'email', 'first_name', 'last_name', 'zip', 'country', 'consent'];

function people(d: SqlDialect, rows: Person[]) {
  const type = (c: string) => (c === 'consent' ? 'BOOLEAN' : 'TEXT');
  const typed = `SELECT ${COLUMNS.map((c) => `CAST(NULL AS ${type(c)}) AS "${c}"`).join(', ')} WHERE FALSE`;
  const values = rows.map((r) => `(${[...r.slice(0, 6), r[6] ?? true].map((v, i) => `CAST(${literal(d, v as string | boolean | null)} AS ${type(COLUMNS[i]!)})`).join(', ')})`);
  const sql = rows.length === 0 ? typed : `${typed}\nUNION ALL\nSELECT * FROM (VALUES\n  ${values.join(',\n  ')}\n) AS v(${COLUMNS.map((c) => `"${c}"`).join(', ')})`;
  return model({ name: 'people', sql, identifiers: { email: 'email', first_name: 'first_name', last_name: 'last_name', zip: 'zip', country: 'country' } });
}

interface Sent {
  op: 'add' | 'remove';
  email: string | null;
  address: string | null;
}

/**
 * One whole sync on the SQL steps, every row accepted (or every removal refused): what was sent (per
 * row: email and address as Google reads them), lost parts, member results, snapshot.
 */
async function syncOnce(e: Engine, rows: Person[], runId: string, options: { refuseRemoves?: boolean } = {}) {
  const { wh, d, t } = e;
  await wh.execute(candidateSql(d, people(d, rows), spec.identifiers, { defaultRegion: 'US' }));
  await wh.execute(deltaSql(d, spec, t.snapshots));
  await wh.execute(partsSql(d, spec, t.snapshots));
  const sent: Sent[] = [];
  for (const op of ['remove', 'add'] as const) {
    if (op === 'add') await wh.execute(holdBackAddsSql(d, spec, t.deliveries, runId, NOW));
    const q = rowsToSendSql(d, spec, op, t.deliveries, runId);
    const got = unpackRows(await wh.query<Record<string, unknown>>(q.sql), q.packed) as ({ row_id: number } & Record<string, string | null>)[];
    for (const r of got) {
      // As payload.ts reads a row: an address only with all four parts.
      const address = r.first_name && r.last_name && r.country && r.zip ? `${r.first_name}|${r.last_name}|${r.country}|${r.zip}` : null;
      sent.push({ op, email: r.email ?? null, address });
    }
    if (got.length === 0) continue;
    const refused = op === 'remove' && options.refuseRemoves;
    await wh.insertRows(t.deliveries, [
      {
        run_id: runId, sync_id: spec.syncId, op, first_row_id: got[0]!.row_id, last_row_id: got.at(-1)!.row_id, row_count: got.length,
        status: refused ? 'failed' : 'sent', attempts: 1, error_code: refused ? 'refused' : null, error_message: null, finished_at: new Date(NOW),
      },
    ]);
  }
  const lost = await wh.query<{ member_key: string }>(`SELECT member_key FROM ${d.quoteIdent(scratch.parts(spec.index))} WHERE op = 'lost' ORDER BY member_key`);
  await wh.execute(memberResultsSql(d, spec, t.deliveries, runId, 'not sent'));
  const results = await wh.query(`SELECT member_key, op, status, action, error_code FROM ${d.quoteIdent(scratch.result(spec.index))} ORDER BY member_key`);
  await wh.transaction(async (tx) => {
    for (const statement of commitSql(d, spec, t, { runId, nowIso: NOW, destination: 'google', platform: 'google_customer_match', audienceId: '7000000042' })) {
      await tx.execute(statement);
    }
  });
  const snapshot = await snapshotKeys(e);
  return { sent: inOrder(sent), lost: lost.map((r) => r.member_key), results, snapshot };
}

/** Sent rows in a stable order (the order requests carry them in is not the point here). */
const inOrder = (rows: Sent[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

const snapshotKeys = (e: Engine) =>
  e.wh.query<{ member_key: string; address_key: string | null }>(`SELECT member_key, address_key FROM ${e.t.snapshots} ORDER BY member_key`);

const email = (v: string) => sha(v);
const address = (given: string, family: string, region: string, postal: string) => `${sha(given)}|${sha(family)}|${region}|${postal}`;
const ANN = address('ann', 'lee', 'US', '94105');
const BOB = address('bob', 'ray', 'US', '10001');
const BOB_MOVED = address('bob', 'ray', 'US', '10002');

const A: Person = ['A', 'ann@example.com', ' Ann ', 'Lee', '94105-1234', 'us'];
const B: Person = ['B', 'bob@example.com', 'Bob', 'Ray', '10001', 'US'];
const C: Person = ['C', 'ann.lee@work.example', 'ann', 'LEE', '94105', 'United States']; // A's address, normalized alike
const D: Person = ['D', 'dee@example.com', 'Dee', null, '10001', 'US']; // no family name: no address

describe.each(['duckdb', 'postgres'] as const)('a Google address as one identifier, on %s', (name) => {
  let e: Engine;
  beforeAll(async () => {
    e = await openEngine(name);
  });
  afterAll(async () => {
    await e?.close();
  });

  it('first sync: every address sent with its member, the snapshot keeps each as sent', async () => {
    const run = await syncOnce(e, [A, B, C, D], 'r1');
    expect(run.sent).toEqual(
      inOrder([
        { op: 'add', email: email('ann.lee@work.example'), address: ANN },
        { op: 'add', email: email('ann@example.com'), address: ANN },
        { op: 'add', email: email('bob@example.com'), address: BOB },
        { op: 'add', email: email('dee@example.com'), address: null },
      ]),
    );
    expect(run.snapshot).toEqual([
      { member_key: 'A', address_key: ANN },
      { member_key: 'B', address_key: BOB },
      { member_key: 'C', address_key: ANN },
      { member_key: 'D', address_key: null },
    ]);
  });

  it('a leaver sharing its address removes only its email; a changed postal code removes the old address and adds the new', async () => {
    const moved: Person = ['B', 'bob@example.com', 'Bob', 'Ray', '10002', 'US'];
    const run = await syncOnce(e, [moved, C, D], 'r2'); // A deleted; C still holds A's address
    expect(run.sent).toEqual(
      inOrder([
        { op: 'add', email: email('bob@example.com'), address: BOB_MOVED },
        { op: 'remove', email: null, address: BOB }, // B's email is still B's: only the old address goes
        { op: 'remove', email: email('ann@example.com'), address: null }, // C still holds ANN
      ]),
    );
    expect(run.lost).toEqual([]);
    expect(run.snapshot).toEqual([
      { member_key: 'B', address_key: BOB_MOVED },
      { member_key: 'C', address_key: ANN },
      { member_key: 'D', address_key: null },
    ]);
  });

  it('the last member holding an address takes it out when it leaves', async () => {
    const run = await syncOnce(e, [['B', 'bob@example.com', 'Bob', 'Ray', '10002', 'US'], ['C', 'ann.lee@work.example', 'ann', 'LEE', '94105', 'United States', false], D], 'r3');
    expect(run.sent).toEqual([{ op: 'remove', email: email('ann.lee@work.example'), address: ANN }]);
    expect(run.results).toEqual([{ member_key: 'C', op: 'remove', status: 'sent', action: 'delete', error_code: null }]);
  });

  it('a row from before address_key: the commit fills its key in when the source matches it exactly, never otherwise', async () => {
    const b: Person = ['B', 'bob@example.com', 'Bob', 'Ray', '10002', 'US'];
    await e.wh.execute(`UPDATE ${e.t.snapshots} SET address_key = NULL`);
    // E joins; B's source row is unchanged; D still has no address.
    const run = await syncOnce(e, [b, D, ['E', 'eve@example.com', 'Eve', 'Ode', '10003', 'US']], 'r4');
    expect(run.sent).toEqual([{ op: 'add', email: email('eve@example.com'), address: address('eve', 'ode', 'US', '10003') }]);
    expect(run.snapshot).toEqual([
      { member_key: 'B', address_key: BOB_MOVED },
      { member_key: 'D', address_key: null },
      { member_key: 'E', address_key: address('eve', 'ode', 'US', '10003') },
    ]);
    // A row whose source no longer hashes to it keeps NULL: nothing is guessed.
    await e.wh.execute(`UPDATE ${e.t.snapshots} SET address_key = NULL, zip_hash = ${literal(e.d, sha('99999'))} WHERE member_key = 'B'`);
    await e.wh.transaction(async (tx) => {
      for (const statement of commitSql(e.d, spec, e.t, { runId: 'r4b', nowIso: NOW, destination: 'google', platform: 'google_customer_match', audienceId: '7000000042' })) {
        if (statement.startsWith('UPDATE')) await tx.execute(statement);
      }
    });
    expect((await snapshotKeys(e)).find((r) => r.member_key === 'B')).toEqual({ member_key: 'B', address_key: null });
  });

  it("a leaver whose key was never filled in and whose source row is gone: its email removed, its address a 'lost' part, dead", async () => {
    const remaining: Person[] = [D, ['E', 'eve@example.com', 'Eve', 'Ode', '10003', 'US']]; // B deleted
    // The email's removal refused: a failure to retry comes first, the member is kept for the next run.
    const refused = await syncOnce(e, remaining, 'r5', { refuseRemoves: true });
    expect(refused.lost).toEqual(['B']);
    expect(refused.results).toEqual([{ member_key: 'B', op: 'remove', status: 'failed', action: 'keep', error_code: 'refused' }]);
    expect((await snapshotKeys(e)).map((r) => r.member_key)).toEqual(['B', 'D', 'E']);

    const run = await syncOnce(e, remaining, 'r6');
    expect(run.sent).toEqual([{ op: 'remove', email: email('bob@example.com'), address: null }]);
    expect(run.lost).toEqual(['B']);
    expect(run.results).toEqual([{ member_key: 'B', op: 'remove', status: 'dead', action: 'delete', error_code: 'unrecoverable' }]);
    expect((await snapshotKeys(e)).map((r) => r.member_key)).toEqual(['D', 'E']);
  });
});
