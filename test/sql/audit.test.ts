// audit.ts: an audsync_runs row inserted as 'running' when a sync starts, finished at commit.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finishRunSql, insertRunSql, invalidIdentifiersSql, type RunFinish, type RunRow } from '../../src/warehouse/sql/audit.js';
import { d, openDb, t, type TestDb } from './support.js';

let db: TestDb;
beforeEach(async () => {
  db = await openDb({ migrate: true });
});
afterEach(async () => {
  await db.close();
});

const run: RunRow = {
  run_id: 'r1', invocation_id: 'i1', sync_id: 'buyers__meta', model: 'buyers', destination: 'meta', mode: 'mirror', target: 'dev',
  started_at: '2026-03-01T10:00:00.000Z', model_sql_sha256: 'f'.repeat(64), audsync_version: '0.1.0', full_refresh: true,
};
const finish: RunFinish = {
  status: 'partial', finished_at: '2026-03-01T10:05:00.000Z', audience_id: 'aud-1', members: 120, added: 10, removed: 2, changed: 1,
  failed: 3, invalid: 7, held_out: 12, no_consent: 4, rows_sent: 11, requests: 2, error_message: "3 member changes were rejected; see 'audsync_changes'",
};
const readRuns = () => db.query(`SELECT * EXCLUDE (invocation_id, model_sql_sha256, audsync_version) FROM ${t.runs}`);

describe('audsync_runs', () => {
  it("starts as 'running' with nothing counted, so a crash leaves a trace", async () => {
    await db.wh.execute(insertRunSql(d, t, run));
    expect(await readRuns()).toEqual([
      {
        run_id: 'r1', sync_id: 'buyers__meta', model: 'buyers', destination: 'meta', audience_id: null, mode: 'mirror', target: 'dev',
        status: 'running', started_at: new Date('2026-03-01T10:00:00Z'), finished_at: null, members: null, added: null, removed: null,
        changed: null, failed: null, invalid: null, held_out: null, error_message: null, no_consent: null, rows_sent: null, requests: null,
        full_refresh: true,
      },
    ]);
  });

  it('is finished in place with every count, the audience and the error (quotes kept)', async () => {
    await db.wh.execute(insertRunSql(d, t, { ...run, run_id: 'other' }));
    await db.wh.execute(insertRunSql(d, t, run));
    await db.wh.execute(finishRunSql(d, t, 'r1', finish));
    const rows = await db.query(`SELECT run_id, status, finished_at, audience_id, members, added, removed, changed, failed, invalid, held_out,
      no_consent, rows_sent, requests, error_message FROM ${t.runs} ORDER BY run_id`);
    const { finished_at, ...counts } = finish;
    expect(rows).toEqual([
      expect.objectContaining({ run_id: 'other', status: 'running', finished_at: null }),
      { run_id: 'r1', finished_at: new Date('2026-03-01T10:05:00Z'), ...counts },
    ]);
  });
});

describe('audsync_invalid_identifiers', () => {
  it('one row per kind with its present and invalid counts; nothing to write without kinds', async () => {
    const sql = invalidIdentifiersSql(d, t, "r'1", 'buyers__meta', { email: { present: 10, invalid: 2 }, phone: { present: 7, invalid: 0 } });
    await db.wh.execute(sql!);
    expect(await db.query(`SELECT * FROM ${t.invalidIdentifiers} ORDER BY identifier`)).toEqual([
      { run_id: "r'1", sync_id: 'buyers__meta', identifier: 'email', present: 10, invalid: 2 },
      { run_id: "r'1", sync_id: 'buyers__meta', identifier: 'phone', present: 7, invalid: 0 },
    ]);
    expect(invalidIdentifiersSql(d, t, 'r2', 'buyers__meta', {})).toBeNull();
  });
});
