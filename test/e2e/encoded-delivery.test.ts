// Meta batches written by the warehouse (capabilities.rowEncoding): each request's rows leave the
// warehouse as one JSON string, a few batches per query. What must hold: every member reaches the
// audience exactly once, batches are cut at batch_size with the outcome ranges the runner records,
// and plain-text identifiers with JSON's special characters arrive as the source held them.
import { afterEach, describe, expect, it } from 'vitest';
import { appendToDestination } from '../reliability/helpers.js';
import { createProject, emailHash, WAREHOUSES, type Customer, type TestProject } from '../support/project.js';

let p: TestProject | undefined;
afterEach(async () => {
  await p?.cleanup();
  p = undefined;
});

// External ids a JSON encoder must escape, or that look like the payload's own punctuation.
const ODD_IDS = ['q"uote', 'back\\slash', 'ünï-çødé', 'comma,"]["', '[1]', 'emoji-😀', 'tab\tinside', 'ctrl\u0001char'];
const customers = (n: number): Customer[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `${ODD_IDS[i % ODD_IDS.length]}-${i}`, email: `buyer${i}@example.com`, ads_consent: true }));

interface DeliveryRow {
  op: string;
  first_row_id: number;
  last_row_id: number;
  row_count: number;
  status: string;
}

describe.each(WAREHOUSES)('Meta batches written by the warehouse (%s)', (warehouse) => {
  it('sends every member once in batch_size batches, plain ids as the source held them, and removes the leavers', async () => {
    p = await createProject({ warehouse, identifiers: '{ email: email, external_id: customer_id }' });
    await appendToDestination(p, 'limits: { batch_size: 3, concurrency: 2 }');
    const all = customers(29);
    await p.writeCustomers(all);

    const first = await p.run();
    expect(first.syncs[0]).toMatchObject({ status: 'success', added: 29, failed: 0 });
    // 29 rows at 3 a request: 10 requests, the last with 2. The runner asks for 4 batches a query,
    // so the rows span three queries.
    expect(p.writes().map((w) => [w.op, w.rows, w.status])).toEqual([...Array(9).fill(['add', 3, 200]), ['add', 2, 200]]);
    const audience = p.audienceId();
    expect(p.sandbox.meta.members(audience, 'EXTERN_ID')).toEqual(all.map((c) => c.customer_id).sort());
    expect(p.audienceHashes()).toEqual(all.map((c) => emailHash(c.email!)).sort());

    // One 'sent' range per request, back to back over the rows.
    const ranges = await p.query<DeliveryRow>(
      `SELECT op, first_row_id, last_row_id, row_count, status FROM audsync.audsync_deliveries ORDER BY first_row_id`,
    );
    expect(ranges.map((r) => [r.op, Number(r.row_count), r.status])).toEqual([...Array(9).fill(['add', 3, 'sent']), ['add', 2, 'sent']]);
    ranges.forEach((r, i) => {
      expect(Number(r.last_row_id) - Number(r.first_row_id) + 1).toBe(Number(r.row_count));
      if (i > 0) expect(Number(r.first_row_id)).toBe(Number(ranges[i - 1]!.last_row_id) + 1);
    });

    // Seven withdraw consent (they stay in the source, so their plain ids are known): their ids and
    // emails go in a 3-3-1 series of removals, and nothing else is sent.
    const before = p.writes().length;
    const stay = all.slice(7);
    await p.writeCustomers([...all.slice(0, 7).map((c) => ({ ...c, ads_consent: false })), ...stay]);
    const second = await p.run();
    expect(second.syncs[0]).toMatchObject({ status: 'success', added: 0, removed: 7, failed: 0 });
    expect(p.writes().slice(before).map((w) => [w.op, w.rows])).toEqual([['remove', 3], ['remove', 3], ['remove', 1]]);
    expect(p.sandbox.meta.members(audience, 'EXTERN_ID')).toEqual(stay.map((c) => c.customer_id).sort());
    expect(p.audienceHashes()).toEqual(stay.map((c) => emailHash(c.email!)).sort());
  });
});
