// The issue's "done when": one model (email, phone, names, zip, country; messy values: Gmail dots
// and +suffixes, national phones read in the row's country, UK for GB) synced to Meta and to Google
// (Data Manager) converges exactly on each under each platform's own normalization, while the
// Google simulator throttles, fails and resets about a third of its bulk calls (seeded). Several
// rounds of source changes; after each, runs repeat (no source change) until both syncs succeed,
// within a bound (the last round's first run is made to give up for sure); every failed run's
// failures are in audsync_changes and audsync_runs. A one-line summary of
// retries, throttles and requests is printed for the record.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { InvocationResult, SyncResult } from '../../src/core/result.js';
import {
  createProject,
  expectedGoogle,
  expectedMeta,
  googleDataManagerDriver,
  metaDriver,
  tap,
  type ConformanceProject,
  type Member,
  type Tapped,
} from '../conformance/support.js';

const META_SYNC = 'segment__meta';
const GOOGLE_SYNC = 'segment__google';
const MAX_RUNS_PER_ROUND = 6;
const RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 100, budget: 200 };
const RETRY_INFO_MS = 250; // queued 429s carry RetryInfo.retryDelay "0.25s"

const FIRSTS = ['Ana', 'Bo', 'Chloé', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'June', 'Kai', 'Lena'];
const LASTS = ['Lopez', "O'Brien", 'Smith-Jones', 'Nguyen', 'Müller', 'Park', 'Rossi', 'Dubois'];
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Member i, messy the way CRM exports are, in three countries. */
function person(i: number): Member {
  const first = FIRSTS[i % FIRSTS.length]!;
  const last = LASTS[i % LASTS.length]!;
  const plainLast = last.replace(/[^A-Za-z]/g, '').toLowerCase();
  const email = [
    `${first}.${plainLast}${i}@Gmail.com`, // Google drops the dot (and the case goes for both)
    `  ${first.toUpperCase()}${i}@Example.COM `,
    `${first.toLowerCase()}.${plainLast}+promo${i}@gmail.com`, // Google drops dots and +promo
    `${first.toLowerCase()}${i}@${plainLast}.co.uk`,
    null, // phone only
    `${first.toLowerCase()}_${i}@googlemail.com`,
  ][i % 6]!;
  const where = i % 5;
  const phone = [`(212) 555-${pad(1000 + i, 4)}`, `+1 646 555 ${pad(2000 + i, 4)}`, `020 7946 ${pad(i, 4)}`, null, `01 23 45 ${pad(i % 100, 2)} ${pad((i * 7) % 100, 2)}`][where]!;
  const country = [' us ', 'US', 'UK', 'us', 'fr'][where]!;
  const zip = ['94105-1234', '2134', 'sw1a 1aa', '10001', '75001'][where]!;
  return {
    customer_id: `P${pad(i, 3)}`,
    email,
    phone,
    first_name: i % 4 === 0 ? ` ${first} ` : first,
    last_name: i % 7 === 3 ? null : last, // some without a last name: no Google address for them
    zip,
    country,
    ads_consent: i % 9 !== 4,
  };
}

let p: ConformanceProject;
let googleLog: Tapped[];
let metaLog: Tapped[];
const runs: { round: string; result: InvocationResult }[] = [];
let finalRows: Member[] = [];
const retryInfoWaits: number[] = [];
const isBulk = (t: Tapped) => /audienceMembers:(ingest|remove)$/.test(t.path);

beforeAll(async () => {
  p = await createProject({
    destinations: [
      { name: 'meta', platform: 'meta', audience: metaDriver.audience, limits: '{ batch_size: 10, concurrency: 2 }' },
      { name: 'google', platform: 'google_dm', audience: googleDataManagerDriver.audience, limits: '{ batch_size: 3, concurrency: 2, requests_per_second: 50 }' },
    ],
    // A member is dead-lettered after max_attempts failed runs (default 5; tested elsewhere): raised
    // here so that bad luck with the seeded faults cannot turn into a dead letter.
    defaults: '  max_attempts: 12',
    // About a third of Google's bulk calls fail: 12% 503, 12% 429 (random ones carry no RetryInfo),
    // 9% connection resets; seeded, so a failure can be replayed.
    sandbox: { google: { faults: { seed: 20260401, errorRate: 0.12, throttleRate: 0.12, resetRate: 0.09 } } },
  });
  googleLog = tap(p.sandbox.google);
  metaLog = tap(p.sandbox.meta);
});

afterAll(async () => {
  await p?.cleanup();
});

const sync = (result: InvocationResult, id: string): SyncResult => result.syncs.find((s) => s.sync === id)!;

/** Runs until both syncs succeed (the first run after a source change, then calm runs), asserting each run's failures are audited. */
async function converge(round: string, rows: Member[], options: { giveUp?: boolean } = {}): Promise<number> {
  await p.write(rows);
  // Two throttles with RetryInfo ahead of the random faults, every round: the first two bulk calls
  // get 429 with retryDelay 0.25 s, so the third may come no sooner than 0.25 s after the first answer.
  p.sandbox.google.failNext(2, 'throttle', { retryAfterMs: RETRY_INFO_MS });
  // Then five 503s in a row: with at most 2 requests in flight, one of them meets its 3rd failure
  // (maxAttempts 3), so the run gives up for sure.
  if (options.giveUp) p.sandbox.google.failNext(5, 'error');
  const start = googleLog.length;
  for (let attempt = 1; attempt <= MAX_RUNS_PER_ROUND; attempt++) {
    const result = await p.run({ retry: RETRY });
    runs.push({ round, result });
    if (options.giveUp && attempt === 1) {
      expect(sync(result, GOOGLE_SYNC)).toMatchObject({ status: 'failed', error: expect.stringMatching(/gave up after 3 attempts/) });
    }
    if (attempt === 1) {
      const [a, b, c] = googleLog.slice(start).filter(isBulk);
      expect([a?.status, b?.status]).toEqual([429, 429]);
      if (c) retryInfoWaits.push(c.at - Math.min(a!.at + a!.ms, b!.at + b!.ms));
    }
    expect(sync(result, META_SYNC).status).toBe('success'); // Meta is calm
    await expectFailuresAudited(result);
    if (result.syncs.every((s) => s.status === 'success')) {
      expect(metaDriver.held(p.sandbox)).toEqual(expectedMeta(rows));
      // Emails, phones and addresses exactly, after every round.
      expect(googleDataManagerDriver.held(p.sandbox)).toEqual(expectedGoogle(rows));
      finalRows = rows;
      return attempt;
    }
  }
  throw new Error(`round ${round} did not converge within ${MAX_RUNS_PER_ROUND} runs`);
}

/** A run that did not fully succeed shows each of its failed members in audsync_changes, and says so in audsync_runs. */
async function expectFailuresAudited(result: InvocationResult) {
  for (const s of result.syncs) {
    const [run] = await p.query<{ run_id: string; status: string; failed: number; error_message: string | null }>(
      `SELECT run_id, status, failed, error_message FROM audsync.audsync_runs WHERE invocation_id = '${result.invocation_id}' AND sync_id = '${s.sync}'`,
    );
    expect(run).toMatchObject({ status: s.status, failed: s.failed });
    const [{ n }] = (await p.query<{ n: number }>(
      `SELECT count(*) AS n FROM audsync.audsync_changes WHERE run_id = '${run!.run_id}' AND status IN ('failed', 'dead')`,
    )) as [{ n: number }];
    expect(n).toBe(s.failed);
    if (s.status !== 'success') {
      expect(s.failed).toBeGreaterThan(0);
      expect(run!.error_message).toBeTruthy();
    }
  }
}

it('one model converges exactly on Meta and on a Google that throttles and fails a third of its calls', { timeout: 180_000 }, async () => {
  const runsPerRound: Record<string, number> = {};
  let rows = Array.from({ length: 48 }, (_, i) => person(i));
  // Two members of one household share an email (and Google reads a third's Gmail variant as it).
  rows[10] = { ...rows[10]!, email: 'home.family@gmail.com' };
  rows[11] = { ...rows[11]!, email: 'home.family@gmail.com' };
  rows[12] = { ...rows[12]!, email: 'homefamily@gmail.com' };
  // P011 is a duplicate record of P012's person: the same names, postal code and region, so one
  // address in the Google list for both (P011 leaves in the removes round, P012 revokes consent later).
  const { first_name, last_name, zip, country } = rows[12]!;
  rows[11] = { ...rows[11]!, first_name, last_name, zip, country };
  expect(expectedGoogle([rows[11]!]).address).toEqual(expectedGoogle([rows[12]!]).address);
  expect(expectedGoogle([rows[11]!]).address).toHaveLength(1);
  runsPerRound.initial = await converge('initial', rows);

  // Adds.
  rows = [...rows, ...Array.from({ length: 10 }, (_, i) => person(48 + i))];
  runsPerRound.adds = await converge('adds', rows);

  // Removes: deleted from the source, one of the household among them.
  const gone = new Set(['P001', 'P005', 'P011', 'P020', 'P033', 'P047', 'P050']);
  rows = rows.filter((r) => !gone.has(r.customer_id));
  runsPerRound.removes = await converge('removes', rows);

  // Email changes: a Gmail dot-only change (a change for Meta, none for Google), a case-only change
  // (none for either), and two real ones.
  const before = (key: string) => rows.find((r) => r.customer_id === key)!;
  const dotOnly = 'P006'; // ana.lopez6@gmail.com in Meta's eyes, analopez6@gmail.com in Google's
  const caseOnly = 'P007';
  const edits: Record<string, Partial<Member>> = {
    [dotOnly]: { email: before(dotOnly).email!.replace('.', '') },
    [caseOnly]: { email: before(caseOnly).email!.toLowerCase().trim() },
    P015: { email: 'brand.new15@example.org' },
    P024: { email: 'moved24@gmail.com' },
  };
  expect(before(dotOnly).email).toMatch(/^\w+\.\w+6@Gmail\.com$/);
  rows = rows.map((r) => (edits[r.customer_id] ? { ...r, ...edits[r.customer_id] } : r));
  const emailRound = runs.length;
  runsPerRound.emails = await converge('emails', rows);
  const touched = async (syncId: string) =>
    (
      await p.query<{ member_key: string }>(
        `SELECT DISTINCT member_key FROM audsync.audsync_changes c JOIN audsync.audsync_runs r USING (run_id)
         WHERE r.sync_id = '${syncId}' AND r.invocation_id IN (${runs.slice(emailRound).map((x) => `'${x.result.invocation_id}'`).join(', ')}) ORDER BY 1`,
      )
    ).map((r) => r.member_key);
  expect(await touched(META_SYNC)).toEqual([dotOnly, 'P015', 'P024']);
  expect(await touched(GOOGLE_SYNC)).toEqual(['P015', 'P024']);

  // Phone changes: one national number rewritten in international form (no change), two new numbers.
  rows = rows.map((r) => {
    if (r.customer_id === 'P002') return { ...r, phone: '+44 20 7946 0002' }; // was 020 7946 0002 in the UK
    if (r.customer_id === 'P010') return { ...r, phone: '+1 (917) 555-3010' };
    if (r.customer_id === 'P014') return { ...r, phone: '020 7946 0914', country: 'UK' };
    return r;
  });
  runsPerRound.phones = await converge('phones', rows);

  // Consent revoked by five members (P012 shares the household's Gmail in Google's eyes); P022 gives it.
  const revoked = new Set(['P000', 'P003', 'P012', 'P027', 'P041']);
  expect(rows.find((r) => r.customer_id === 'P022')!.ads_consent).toBe(false);
  rows = rows.map((r) => (revoked.has(r.customer_id) ? { ...r, ads_consent: false } : r.customer_id === 'P022' ? { ...r, ads_consent: true } : r));
  runsPerRound.consent = await converge('consent', rows);

  // Everything at once.
  rows = [
    ...rows.filter((r) => r.customer_id !== 'P008' && r.customer_id !== 'P030').map((r) => (r.customer_id === 'P016' ? { ...r, email: 'p16.new@example.com', phone: null } : r)),
    ...Array.from({ length: 6 }, (_, i) => person(70 + i)),
  ];
  runsPerRound.mixed = await converge('mixed', rows, { giveUp: true });

  // ---- what it took, from the simulator and the audit tables ----------------------------------
  const bulk = googleLog.filter(isBulk);
  const count = (status: number) => bulk.filter((t) => t.status === status).length;
  // The seeded random faults (the queued RetryInfo throttles set aside) hit about a third.
  const queued = 2 * Object.keys(runsPerRound).length + 5;
  const faultShare = (bulk.length - count(200) - queued) / (bulk.length - queued);
  expect(faultShare).toBeGreaterThan(0.2);
  expect(faultShare).toBeLessThan(0.5);
  // Each round's RetryInfo throttles were waited out before the next call.
  expect(retryInfoWaits.length).toBe(Object.keys(runsPerRound).length);
  for (const wait of retryInfoWaits) expect(wait).toBeGreaterThanOrEqual(RETRY_INFO_MS - 15);

  const [audit] = await p.query<{ deliveries: number; retries: number; failed_deliveries: number }>(
    `SELECT count(*) AS deliveries, sum(attempts - 1) AS retries, sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed_deliveries
     FROM audsync.audsync_deliveries WHERE sync_id = '${GOOGLE_SYNC}'`,
  );
  const runRows = await p.query<{ sync_id: string; status: string; n: number; requests: number }>(
    `SELECT sync_id, status, count(*) AS n, sum(requests) AS requests FROM audsync.audsync_runs GROUP BY ALL ORDER BY ALL`,
  );
  const googleRuns = runRows.filter((r) => r.sync_id === GOOGLE_SYNC);
  const gaveUp = googleRuns.filter((r) => r.status !== 'success').reduce((n, r) => n + r.n, 0);
  const [changes] = await p.query<{ failed: number; sent: number }>(
    `SELECT sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS sent
     FROM audsync.audsync_changes WHERE sync_id = '${GOOGLE_SYNC}'`,
  );
  const dead = await p.query(`SELECT * FROM audsync.audsync_changes WHERE status = 'dead'`);
  expect(dead).toEqual([]);
  const metaWrites = metaLog.filter((t) => /\/users$/.test(t.path));
  const heldAddresses = new Set(googleDataManagerDriver.held(p.sandbox).address);
  const expectedAddresses = new Set(expectedGoogle(rows).address);
  const staleAddresses = [...heldAddresses].filter((a) => !expectedAddresses.has(a)).length;
  const missingAddresses = [...expectedAddresses].filter((a) => !heldAddresses.has(a)).length;
  console.log(
    `[meta-google] rounds=${Object.keys(runsPerRound).length} runs=${runs.length} runs/round=${JSON.stringify(runsPerRound)} ` +
      `google: runs failed/partial=${gaveUp}/${googleRuns.reduce((n, r) => n + r.n, 0)} bulk_requests=${bulk.length} ok=${count(200)} 503=${count(503)} 429=${count(429)} reset=${count(0)} ` +
      `random_fault_share=${(faultShare * 100).toFixed(1)}% retryinfo_waits_ms=${Math.min(...retryInfoWaits)}..${Math.max(...retryInfoWaits)} audit_deliveries=${audit!.deliveries} audit_retries=${audit!.retries} audit_failed_deliveries=${audit!.failed_deliveries} ` +
      `audit_requests=${googleRuns.reduce((n, r) => n + Number(r.requests), 0)} changes_sent=${changes!.sent} changes_failed=${changes!.failed} | ` +
      `meta: writes=${metaWrites.length} non200=${metaWrites.filter((t) => t.status !== 200).length} | final: meta ${expectedMeta(rows).EMAIL.length} emails ${expectedMeta(rows).PHONE.length} phones, ` +
      `google ${expectedGoogle(rows).email.length} emails ${expectedGoogle(rows).phone.length} phones ${expectedAddresses.size} addresses (held: ${staleAddresses} stale, ${missingAddresses} missing)`,
  );
});

// Addresses (names, region and postal code, matched together) converge like emails: after the
// rounds above (members deleted, consent revoked, a region changed, an address two records share)
// the list holds exactly the addresses of the final rows, none stale, none missing (converge()
// checked it after every round too).
it('the Google list holds exactly the expected addresses too', () => {
  expect(finalRows.length).toBeGreaterThan(0);
  expect(googleDataManagerDriver.held(p.sandbox).address).toEqual(expectedGoogle(finalRows).address);
  expect(expectedGoogle(finalRows).address.length).toBeGreaterThan(20);
});
