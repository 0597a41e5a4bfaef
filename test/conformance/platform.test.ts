// One conformance suite for every platform, each against its own simulator, through the real runner
// (loadProject + runInvocation, in-process) on a DuckDB project whose model reads a CSV: adds under
// the platform's own normalization, removals, idempotence, the batch size, each error class
// (bad token, throttling with the platform's own delay signal, 5xx, a refused row), full refresh
// over a stray identifier, and the platform reports in audsync_platform_reports. Expected sets come
// from a small reference of each platform's rules (support.ts), not from the product's SQL.
// Then Google addresses (names, region and postal code matched together) tracked as one identifier:
// removed with a deleted member, replaced when a part changes, kept while another member shares
// them, and snapshots from before the address key existed (upgrade). Then the rate governor: every
// HTTP call of a run (audience lookups and creates, uploads, job runs, status polls) takes its own
// slot of the ad account's limit, checked against the arrival times the simulators saw; and Google
// Ads runs that meet the previous run's job still RUNNING (CONCURRENT_MODIFICATION retried with
// backoff, then a failure that says so, nothing recorded as synced, the job never run later).
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor, EXIT } from '../../src/core/result.js';
import {
  createProject,
  DRIVERS,
  emailMeta,
  expectedGoogle,
  expectedMetaAttributes,
  googleAdsDriver,
  googleDataManagerDriver,
  metaDriver,
  sha256,
  tap,
  type ConformanceProject,
  type Member,
  type PlatformDriver,
} from './support.js';

/** Messy real-world values: Gmail dots and +suffixes, case and whitespace, national phones, UK for GB. */
const MEMBERS: Member[] = [
  { customer_id: 'C01', email: ' Dana.Doe@Gmail.com ', phone: '(415) 555-0134', first_name: ' Dana ', last_name: 'Doe', zip: '94105-1234', country: 'US', ads_consent: true },
  { customer_id: 'C02', email: 'alex.f+news@googlemail.com', phone: '+44 20 7946 0958', first_name: 'Alex', last_name: "O'Brien-Fischer", zip: 'sw1a  1aa', country: 'uk', ads_consent: true },
  { customer_id: 'C03', email: 'QUINN@CymbalGroup.com', first_name: 'Quinn', ads_consent: true },
  { customer_id: 'C04', email: 'jo.smith@example.org', phone: '020 7946 0018', first_name: 'Jo', last_name: 'Smith', zip: 'EC1A 1BB', country: 'GB', ads_consent: true },
  { customer_id: 'C05', email: 'no-consent@example.com', phone: '+1 212 555 0100', ads_consent: false },
  { customer_id: 'C06', email: 'not an email', phone: '+1 212 555 0199', ads_consent: true }, // matched on its phone only
  { customer_id: 'C07', email: 'lee@example.net', phone: '212.555.0142', first_name: 'Lee', last_name: 'Park', zip: '2134', country: ' us ', ads_consent: true },
  // Another member whose email Google reads as C01's (Gmail dots): one identifier there, two on Meta.
  { customer_id: 'C08', email: 'danadoe@gmail.com', ads_consent: true },
];

const simple = (n: number, from = 0): Member[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `K${String(from + i).padStart(3, '0')}`, email: `m${from + i}@example.com`, ads_consent: true }));

const changes = (p: ConformanceProject, where = '1 = 1') =>
  p.query<{ member_key: string; op: string; status: string; attempt: number; error_code: string | null }>(
    `SELECT member_key, op, status, attempt, error_code FROM audsync.audsync_changes WHERE ${where} ORDER BY member_key, op`,
  );
/** Requests that carried rows to this platform's audience. */
const rowWritesTo = (driver: PlatformDriver) => driver.writes(p!.sandbox).filter((w) => driver.rowOps.includes(w.op));
const snapshotKeys = async (p: ConformanceProject) => (await p.query<{ member_key: string }>(`SELECT member_key FROM audsync.audsync_snapshots ORDER BY 1`)).map((r) => r.member_key);

let p: ConformanceProject | undefined;
afterEach(async () => {
  await p?.cleanup();
  p = undefined;
});

type SandboxOptions = Parameters<typeof createProject>[0]['sandbox'];

/** A project with one sync of the segment to this platform's simulator. */
async function setupFor(driver: PlatformDriver, options: { limits?: string; sandbox?: SandboxOptions; sendAddresses?: boolean } = {}) {
  const sandbox = { ...driver.sandboxOptions, ...options.sandbox, google: { ...driver.sandboxOptions?.google, ...options.sandbox?.google } };
  p = await createProject({
    destinations: [{ name: 'dest', platform: driver.kind, audience: driver.audience, limits: options.limits, sendAddresses: options.sendAddresses }],
    sandbox,
  });
  return p;
}

describe.each(DRIVERS)('platform conformance: $label', (driver: PlatformDriver) => {
  const rowWrites = () => driver.writes(p!.sandbox).filter((w) => driver.rowOps.includes(w.op));
  const setup = (options: { limits?: string; sandbox?: SandboxOptions } = {}) => setupFor(driver, options);

  it('first sync adds exactly the expected identifiers under its own rules, reports them, and a second run sends nothing', async () => {
    p = await setup();
    await p.write(MEMBERS);
    const first = await p.run();
    expect(first.status).toBe('success');
    expect(first.syncs[0]).toMatchObject({ status: 'success', members: 7, added: 7, removed: 0, failed: 0, no_consent: 1 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(MEMBERS));
    if (driver.kind === 'meta') {
      const id = p.sandbox.meta.audiences()[0]!.id;
      const keys = ['FN', 'LN', 'ZIP', 'COUNTRY'] as const;
      expect(Object.fromEntries(keys.map((k) => [k, p!.sandbox.meta.members(id, k)]))).toEqual(expectedMetaAttributes(MEMBERS));
    }
    // Gmail: Meta keeps the dots (two hashes), Google drops them (one hash for C01 and C08).
    const dana = driver.kind === 'meta' ? 2 : 1;
    expect(driver.emails(p.sandbox).filter((h) => [sha256('dana.doe@gmail.com'), sha256('danadoe@gmail.com')].includes(h))).toHaveLength(dana);
    expect(await snapshotKeys(p)).toEqual(['C01', 'C02', 'C03', 'C04', 'C06', 'C07', 'C08']);

    const reports = await p.query<{ kind: string; platform: string; sync_id: string; details: string }>(
      `SELECT kind, platform, sync_id, details FROM audsync.audsync_platform_reports`,
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: driver.reportKind, platform: driver.kind === 'meta' ? 'meta_custom_audiences' : 'google_customer_match' });
    expect(JSON.parse(reports[0]!.details)).toMatchObject({ op: 'add' });

    const writesBefore = driver.writes(p.sandbox).length;
    const second = await p.run();
    expect(second.syncs[0]).toMatchObject({ status: 'success', added: 0, removed: 0, changed: 0, requests: 0 });
    expect(driver.writes(p.sandbox)).toHaveLength(writesBefore);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(MEMBERS));
  });

  it('removes leavers and members who revoke consent, and moves changed identifiers', async () => {
    p = await setup();
    await p.write(MEMBERS);
    await p.run();
    const next = MEMBERS.filter((m) => m.customer_id !== 'C03' && m.customer_id !== 'C08') // C03 leaves; C08 leaves (Google keeps C01's email)
      .map((m) => (m.customer_id === 'C02' ? { ...m, ads_consent: false } : m)) // C02 revokes consent
      .map((m) => (m.customer_id === 'C07' ? { ...m, email: 'lee.park@example.net', phone: '+1 646 555 0142' } : m)); // C07 changes both
    await p.write(next);
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', removed: 3, changed: 1, failed: 0 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(next));
    expect(driver.emails(p.sandbox)).toContain(driver.expectedEmails([MEMBERS[0]!])[0]); // C01 still held
    expect(await snapshotKeys(p)).toEqual(['C01', 'C04', 'C06', 'C07']);
    // Idempotent after removals too.
    const before = driver.writes(p.sandbox).length;
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 });
    expect(driver.writes(p.sandbox)).toHaveLength(before);
  });

  it('never sends more rows in one request than limits.batch_size', async () => {
    p = await setup({ limits: '{ batch_size: 3, concurrency: 2 }' });
    const rows = simple(10);
    await p.write(rows);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 10 });
    const adds = rowWrites();
    expect(adds.map((w) => w.rows).sort()).toEqual([1, 3, 3, 3]);
    expect(adds.every((w) => w.status === 200)).toBe(true);
    await p.write(rows.slice(0, 3)); // 7 leave
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 7 });
    expect(rowWrites().slice(adds.length).map((w) => w.rows).sort()).toEqual([1, 3, 3]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(rows.slice(0, 3)));
  });

  it('a rejected token fails the sync (exit 1), records nothing as synced, and the next run sends everything', async () => {
    p = await setup();
    const rows = simple(4);
    await p.write(rows);
    driver.failNext(p.sandbox, 1, 'invalid_token');
    const result = await p.run();
    expect(result.status).toBe('failed');
    expect(exitCodeFor(result.status)).toBe(EXIT.failed);
    const s = result.syncs[0]!;
    expect(s).toMatchObject({ status: 'failed', added: 0, failed: 4 });
    expect(s.error).toMatch(driver.kind === 'meta' ? /access token/ : /OAuth credentials/);
    expect(await snapshotKeys(p)).toEqual([]);
    expect(driver.emails(p.sandbox)).toEqual([]);
    expect(rowWrites().map((w) => w.status)).toEqual([driver.kind === 'meta' ? 400 : 401]); // no retry of a fatal answer
    expect((await changes(p, "status = 'failed'")).map((c) => c.member_key)).toEqual(['K000', 'K001', 'K002', 'K003']);
    const [run] = await p.query<{ status: string }>(`SELECT status FROM audsync.audsync_runs ORDER BY started_at LIMIT 1`);
    expect(run!.status).toBe('failed');

    const again = await p.run();
    expect([again.status, exitCodeFor(again.status)]).toEqual(['success', EXIT.ok]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(rows));
  });

  it("honours the platform's throttle signal and waits the delay it announces before retrying", async () => {
    p = await setup({ limits: '{ concurrency: 1 }' });
    const log = tap(driver.kind === 'meta' ? p.sandbox.meta : p.sandbox.google);
    const rows = simple(3);
    await p.write(rows);
    // Meta: code 80003 with X-Business-Use-Case-Usage estimated_time_to_regain_access = 1 minute;
    // Google: 429 RESOURCE_EXHAUSTED with RetryInfo.retryDelay "0.7s". The runtime waits what the
    // platform asks, capped at 5 x maxDelayMs (here 5 x 200 ms = 1 s, so Meta's minute becomes 1 s).
    const announced = driver.kind === 'meta' ? 60_000 : 700;
    const expectedWait = Math.min(announced, 5 * 200);
    driver.failNext(p.sandbox, 1, 'throttle', { retryAfterMs: announced });
    const s = (await p.run({ retry: { baseDelayMs: 5, maxDelayMs: 200 } })).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', added: 3, failed: 0 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(rows));
    const writes = log.filter((t) => /users|audienceMembers|addOperations/.test(t.path));
    expect(writes.map((w) => w.status)).toEqual([driver.kind === 'meta' ? 400 : 429, 200]);
    const waited = writes[1]!.at - (writes[0]!.at + writes[0]!.ms);
    expect(waited).toBeGreaterThanOrEqual(expectedWait - 15);
    expect(waited).toBeLessThan(expectedWait + 1000);
    const [delivery] = await p.query<{ attempts: number; status: string }>(`SELECT attempts, status FROM audsync.audsync_deliveries`);
    expect(delivery).toEqual({ attempts: 2, status: 'sent' });
  });

  it('retries 5xx answers and connection resets within one run', async () => {
    p = await setup({ limits: '{ concurrency: 1 }' });
    const rows = simple(5);
    await p.write(rows);
    driver.failNext(p.sandbox, 2, 'error');
    driver.failNext(p.sandbox, 1, 'reset');
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', added: 5, failed: 0 });
    const status = rowWrites().map((w) => w.status);
    expect(status).toEqual([driver.kind === 'meta' ? 500 : 503, driver.kind === 'meta' ? 500 : 503, 0, 200]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(rows));
    expect(await p.query(`SELECT attempts, status FROM audsync.audsync_deliveries`)).toEqual([{ attempts: 4, status: 'sent' }]);
  });

  it('a row the platform refuses makes the sync partial (exit 3) with exactly that member failed, sent again once fixed', async () => {
    p = await setup({ limits: '{ batch_size: 8, concurrency: 1 }' });
    const clean = simple(8);
    const refusal = driver.refuseOne(p.sandbox, clean, 'K005');
    await p.write(refusal.rows);
    const result = await p.run();
    expect([result.status, exitCodeFor(result.status)]).toEqual(['partial', EXIT.partial]);
    expect(result.syncs[0]).toMatchObject({ status: 'partial', added: 7, failed: 1 });
    const failed = await changes(p, "status = 'failed'");
    expect(failed).toEqual([expect.objectContaining({ member_key: 'K005', op: 'add', attempt: 1 })]);
    expect(failed[0]!.error_code).toMatch(driver.kind === 'meta' ? /^100$/ : /INVALID_POSTAL_CODE/);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(refusal.rows.filter((r) => r.customer_id !== 'K005')));
    expect(await snapshotKeys(p)).not.toContain('K005');

    const fixed = refusal.lift(refusal.rows);
    await p.write(fixed);
    const next = (await p.run()).syncs[0]!;
    expect(next).toMatchObject({ status: 'success', failed: 0 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(fixed));
    const sent = await changes(p, "member_key = 'K005' AND status = 'sent'");
    expect(sent).toHaveLength(1);
    // Meta: the same row sent again is attempt 2. Google: the row was fixed (a new postal code), so
    // its attempt count may start over.
    if (driver.kind === 'meta') expect(sent[0]!.attempt).toBe(2);
  });

  it('a batch refused whole for rows it does not name is bisected: only the refused row fails', async () => {
    p = await setup({ limits: '{ batch_size: 4, concurrency: 1 }' });
    const rows = simple(4);
    await p.write(rows);
    // The whole request, then its first half, then that half's first row alone are refused; the rest pass.
    driver.failNext(p.sandbox, 3, 'invalid_payload');
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'partial', added: 3, failed: 1 });
    const failed = await changes(p, "status = 'failed'");
    expect(failed).toHaveLength(1);
    const refused = failed[0]!.member_key;
    expect(rowWrites().map((w) => [w.rows, w.status])).toEqual([
      [4, 400],
      [2, 400],
      [1, 400],
      [1, 200],
      [2, 200],
    ]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(rows.filter((r) => r.customer_id !== refused)));
    expect(await snapshotKeys(p)).toEqual(rows.map((r) => r.customer_id).filter((k) => k !== refused));
  });

  it('--full-refresh leaves the audience exactly equal to the segment, a stray identifier and the leavers gone', async () => {
    p = await setup({ limits: '{ batch_size: 2 }' });
    await p.write(MEMBERS);
    await p.run();
    const stray = sha256(emailMeta('stray.uploaded.by.hand@example.com')!);
    await driver.plantStray(p.sandbox, stray);
    expect(driver.emails(p.sandbox)).toContain(stray);

    const remaining = MEMBERS.filter((m) => m.customer_id !== 'C04' && m.customer_id !== 'C07');
    await p.write(remaining);
    const result = await p.run({ fullRefresh: true });
    expect(result.syncs[0]).toMatchObject({ status: 'success', removed: 2, failed: 0 });
    expect(driver.emails(p.sandbox)).not.toContain(stray);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(remaining));
    expect(await snapshotKeys(p)).toEqual(['C01', 'C02', 'C03', 'C06', 'C08']);
    const removals = await changes(p, "op = 'remove'");
    expect(removals.map((c) => [c.member_key, c.status])).toEqual([
      ['C04', 'sent'],
      ['C07', 'sent'],
    ]);
    // The refresh run's own reports (pending reports of earlier runs may be re-polled and appended too).
    const reports = await p.query<{ kind: string; details: string }>(
      `SELECT kind, details FROM audsync.audsync_platform_reports WHERE run_id = (SELECT run_id FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1)`,
    );
    const details = reports.map((r) => JSON.parse(r.details) as Record<string, unknown>);
    if (driver.kind === 'meta') expect(reports.map((r) => r.kind)).toContain('meta_replace_session');
    if (driver.kind === 'google_dm') expect(details.map((d) => d.op).sort()).toEqual(['add', 'remove_all']);
    if (driver.kind === 'google_ads') expect(details).toContainEqual(expect.objectContaining({ remove_all: true, op: 'add' }));
    // A normal run afterwards has nothing to do.
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 });
  });

  it.runIf(driver.kind !== 'meta')('--full-refresh: a remove-all answered 503 is tried again, and the refresh completes', async () => {
    p = await setup();
    await p.write(MEMBERS);
    await p.run();
    const remaining = MEMBERS.filter((m) => m.customer_id !== 'C04');
    await p.write(remaining);
    // Data Manager empties a list with its own call; Google Ads with the first operation of the job.
    if (driver.kind === 'google_dm') p.sandbox.google.failNext(1, 'error', { op: 'remove_all' });
    else p.sandbox.google.failNext(1, 'error');
    const before = p.sandbox.google.requests.length;
    const result = await p.run({ fullRefresh: true });
    expect(result.syncs[0]).toMatchObject({ status: 'success', removed: 1, failed: 0 });
    const emptying = p.sandbox.google.requests.slice(before).filter((r) => (driver.kind === 'google_dm' ? r.op === 'remove_all' : r.op === 'add_operations')).slice(0, 2);
    expect(emptying.map((r) => r.status)).toEqual([503, 200]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected(remaining));
  });
});

// ---- the rate governor ----------------------------------------------------------------------------

/** The most arrivals within any window of `windowMs` (a platform's per-second limit counts these). */
function busiestWindow(log: { at: number }[], windowMs = 1000): number {
  const times = log.map((t) => t.at).sort((a, b) => a - b);
  return Math.max(0, ...times.map((start, i) => times.slice(i).filter((t) => t < start + windowMs).length));
}

describe('rate governor: every HTTP call waits in the ad account\'s limit', () => {
  it('Meta: a first run that creates its audience at the account\'s limit is never throttled', async () => {
    // Meta counts every call of an ad account (the simulator's limiter too): the audience list, the
    // create and the adds each take a slot of the account's limit, never two calls in one.
    p = await setupFor(metaDriver, { limits: '{ requests_per_second: 3, batch_size: 1, concurrency: 1 }', sandbox: { meta: { rateLimit: { requestsPerSecond: 3 } } } });
    const log = tap(p.sandbox.meta);
    await p.write(simple(3));
    expect((await p.run({ retry: { baseDelayMs: 400, maxDelayMs: 1000 } })).syncs[0]!.status).toBe('success');
    expect(p.sandbox.meta.requests.filter((r) => r.errorCode === 80003)).toEqual([]);
    expect(p.sandbox.meta.requests.map((r) => r.op)).toEqual(['list', 'create', 'add', 'add', 'add']);
    expect(busiestWindow(log)).toBeLessThanOrEqual(3);
  });

  // Google: job creation, uploads, job runs and the status polls of pending reports at the start of
  // the next run are all calls of the account; so are the requests of a send that takes several.
  it.each([googleAdsDriver, googleDataManagerDriver])('$label: uploads, job runs and status polls each take a slot of the limit', async (driver) => {
    p = await setupFor(driver, { limits: '{ requests_per_second: 3, batch_size: 1, concurrency: 4 }' });
    const log = tap(p.sandbox.google);
    await p.write(simple(4));
    expect((await p.run()).syncs[0]!.status).toBe('success');
    const firstRun = log.splice(0); // each invocation has its own limiter: windows are counted per run
    await p.write(simple(6));
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 2 });
    const ops = p.sandbox.google.requests.map((r) => r.op);
    if (driver.kind === 'google_ads') {
      expect(ops).toEqual([...['create_job', ...Array(4).fill('add_operations'), 'run_job'], ...['search', 'create_job', 'add_operations', 'add_operations', 'run_job']]);
    } else {
      // The second run first asks about the first run's four requests, then sends two more.
      expect(ops).toEqual([...Array(4).fill('ingest'), ...Array(4).fill('status'), 'ingest', 'ingest']);
    }
    expect(p.sandbox.google.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(Math.max(busiestWindow(firstRun), busiestWindow(log))).toBeLessThanOrEqual(3);
  });
});

// ---- Google Ads: one job per list at a time -------------------------------------------------------

/**
 * Google Ads runs one OfflineUserDataJob per user list at a time, and a job takes hours: running
 * this run's job while the previous run's still RUNNING answers 400 with a GoogleAdsFailure whose
 * errorCode is {databaseError: CONCURRENT_MODIFICATION}. The runtime runs the job again with
 * backoff within the run's retry policy; if the list is still busy, the sync fails saying so, and
 * nothing of it counts as sent. The job it staged is abandoned: never run later (it could undo a
 * later run's changes), left PENDING at Google, which has no call to delete one.
 */
describe('Google Ads: a run while the previous run\'s job is still RUNNING', () => {
  /** A project whose first run's job (3 members) stays RUNNING: 60 s here, hours on Google. */
  const firstRunStillRunning = async () => {
    p = await setupFor(googleAdsDriver, { sandbox: { google: { processingMs: 60_000 } } });
    await p.write(simple(3));
    expect((await p.run()).syncs[0]!.status).toBe('success');
    return p;
  };
  /** Calls `then` after the n-th refusal of a job run, as the simulator answers it. */
  const afterRefusal = (n: number, then: () => void) => {
    const google = p!.sandbox.google;
    const handle = google.handle.bind(google);
    let refusals = 0;
    google.handle = async (request) => {
      const reply = await handle(request);
      if (request.path.endsWith(':run') && 'status' in reply && reply.status === 400 && ++refusals === n) then();
      return reply;
    };
  };

  it('retries the job run with backoff, then fails naming CONCURRENT_MODIFICATION: nothing counts as sent or is applied later, the next run sends it', async () => {
    p = await firstRunStillRunning();
    const next = simple(4, 1); // K000 leaves, K003 and K004 join
    await p.write(next);
    const log = tap(p.sandbox.google);
    // The previous job finishes right after the last refusal: too late for this run, which gives
    // up; its job (K000's removal, two adds) must not run at close() all the same.
    afterRefusal(4, () => p!.sandbox.google.completeAll());
    const s = (await p.run({ retry: { maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 200 } })).syncs[0]!;
    expect(s).toMatchObject({ status: 'failed', added: 0, removed: 0, failed: 3 });
    expect(s.error).toMatch(/^gave up after 4 attempts: the Google Ads API refused to run job customers\/1234567890\/offlineUserDataJobs\/\d+ \(CONCURRENT_MODIFICATION\)/);
    expect(s.error).toMatch(/the previous job of user list 7000000042 in customer 1234567890 is still running/);
    expect(s.error).toMatch(/none of this run's changes to the audience count as sent: the next run sends them again/);
    expect(s.error).not.toMatch(/invalid argument/i);
    const runs = log.filter((t) => t.path.endsWith(':run'));
    // One job, run four times, each after a longer backoff (full jitter: at least half the ceiling).
    expect(runs.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(new Set(runs.map((r) => r.path)).size).toBe(1);
    runs.slice(1).forEach((r, i) => expect(r.at - runs[i]!.at).toBeGreaterThanOrEqual((40 * 2 ** i) / 2 - 2));
    expect(p.sandbox.google.requests.filter((r) => r.op === 'run_job').map((r) => r.reason)).toEqual([undefined, ...Array(4).fill('CONCURRENT_MODIFICATION')]);

    const failed = await p.query<{ member_key: string; op: string; status: string; error_code: string; error_message: string }>(
      `SELECT member_key, op, status, error_code, error_message FROM audsync.audsync_changes WHERE status <> 'sent' ORDER BY member_key`,
    );
    expect(failed.map((c) => [c.member_key, c.op, c.status, c.error_code])).toEqual([
      ['K000', 'remove', 'failed', 'CONCURRENT_MODIFICATION'],
      ['K003', 'add', 'failed', 'CONCURRENT_MODIFICATION'],
      ['K004', 'add', 'failed', 'CONCURRENT_MODIFICATION'],
    ]);
    for (const c of failed) expect(c.error_message).toMatch(/^not applied: .*\(CONCURRENT_MODIFICATION\): the previous job of user list 7000000042 .*still running.*the next run sends them again/);
    const [run] = await p.query<{ status: string; error_message: string }>(`SELECT status, error_message FROM audsync.audsync_runs ORDER BY started_at DESC LIMIT 1`);
    expect(run).toEqual({ status: 'failed', error_message: s.error });
    expect(await snapshotKeys(p)).toEqual(['K000', 'K001', 'K002']);
    // The abandoned job stays PENDING at Google: never run, not even when the invocation closed.
    expect(p.sandbox.google.requests.filter((r) => r.op === 'run_job')).toHaveLength(5);
    expect(p.sandbox.google.jobs().map((j) => [j.status, j.creates, j.removes])).toEqual([
      ['SUCCESS', 3, 0],
      ['PENDING', 2, 1],
    ]);
    expect(googleAdsDriver.held(p.sandbox)).toEqual(googleAdsDriver.expected(simple(3)));

    // The list is free now: the next run sends the same changes again, in a new job.
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 2, removed: 1, failed: 0 });
    expect(googleAdsDriver.held(p.sandbox)).toEqual(googleAdsDriver.expected(next));
    expect(p.sandbox.google.jobs().map((j) => j.status)).toEqual(['SUCCESS', 'PENDING', 'RUNNING']);
    expect(await snapshotKeys(p)).toEqual(['K001', 'K002', 'K003', 'K004']);
  });

  it('a run of removals only runs its job before it commits: a busy list fails it, the removals are not recorded as done', async () => {
    p = await firstRunStillRunning();
    await p.write(simple(3).slice(1)); // K000 leaves; nothing joins
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'failed', removed: 0, failed: 1 });
    expect(s.error).toMatch(/\(CONCURRENT_MODIFICATION\): the previous job of user list 7000000042 .* is still running/);
    expect(await changes(p, "status <> 'sent'")).toEqual([expect.objectContaining({ member_key: 'K000', op: 'remove', status: 'failed', error_code: 'CONCURRENT_MODIFICATION' })]);
    expect(await snapshotKeys(p)).toEqual(['K000', 'K001', 'K002']);
    expect(googleAdsDriver.held(p.sandbox)).toEqual(googleAdsDriver.expected(simple(3)));

    p.sandbox.google.completeAll();
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1 });
    expect(googleAdsDriver.held(p.sandbox)).toEqual(googleAdsDriver.expected(simple(3).slice(1)));
    expect(await snapshotKeys(p)).toEqual(['K001', 'K002']);
  });

  it('the retries spend the sync\'s retry budget', async () => {
    p = await firstRunStillRunning();
    await p.write(simple(5));
    const s = (await p.run({ retry: { maxAttempts: 10, baseDelayMs: 5, maxDelayMs: 20, budget: 2 } })).syncs[0]!;
    expect(s).toMatchObject({ status: 'failed', failed: 2 });
    expect(s.error).toMatch(/^stopped after spending the retry budget of 2 retries: .*\(CONCURRENT_MODIFICATION\)/);
    expect(p.sandbox.google.requests.filter((r) => r.op === 'run_job').map((r) => r.status)).toEqual([200, 400, 400, 400]);
  });

  it('a previous job that finishes while the run retries lets this run\'s job run: the sync succeeds', async () => {
    p = await firstRunStillRunning();
    afterRefusal(2, () => p!.sandbox.google.completeAll());
    await p.write(simple(5));
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 2, failed: 0 });
    expect(p.sandbox.google.requests.filter((r) => r.op === 'run_job').map((r) => r.status)).toEqual([200, 400, 400, 200]);
    expect(googleAdsDriver.held(p.sandbox)).toEqual(googleAdsDriver.expected(simple(5)));
    expect(await snapshotKeys(p)).toEqual(['K000', 'K001', 'K002', 'K003', 'K004']);
  });
});

// ---- known product bugs: each test states what should happen and fails until it does -------------

/**
 * Google matches on a full address (given name, family name, region, postal code) on its own, and
 * the list holds it as an identifier (the simulator keeps one set per type: email, phone, address,
 * an address keyed `<sha256 given>|<sha256 family>|<REGION>|<POSTAL>` as expectedGoogle builds it).
 * audsync tracks the four parts as one identifier (capabilities.address): added when its first
 * member arrives, removed when its last member leaves (deleted, consent revoked), replaced when any
 * part changes, like an email. The snapshot keeps the key as sent (address_key), so a removal needs
 * no source row; rows written before that column existed are covered by the upgrade tests.
 */
describe.each([googleDataManagerDriver, googleAdsDriver])('Google addresses: $label', (driver) => {
  const people: Member[] = [
    { customer_id: 'A', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', zip: '94105', country: 'US', ads_consent: true },
    { customer_id: 'B', email: 'bob@example.com', first_name: 'Bob', last_name: 'Ray', zip: '10001', country: 'US', ads_consent: true },
  ];
  /** The address as the list holds it, from the reference normalization (support.ts). */
  const addressOf = (m: Member) => expectedGoogle([m]).address[0]!;
  const addresses = () => driver.held(p!.sandbox).address;
  const snapshot = () =>
    p!.query<{ member_key: string; address_key: string | null }>(`SELECT member_key, address_key FROM audsync.audsync_snapshots ORDER BY member_key`);

  it('without send_addresses (the default): emails and phones only; no name, region or postal code is sent, normalized or kept', async () => {
    p = await setupFor(driver, { sendAddresses: false });
    await p.write(people);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', added: 2 });
    expect(driver.held(p.sandbox)).toEqual({ ...driver.expected(people), address: [] });
    expect(await snapshot()).toEqual([
      { member_key: 'A', address_key: null },
      { member_key: 'B', address_key: null },
    ]);
    const [row] = await p.query<Record<string, string | null>>(`SELECT first_name_hash, last_name_hash, zip_hash, country_hash FROM audsync.audsync_snapshots WHERE member_key = 'A'`);
    expect(row).toEqual({ first_name_hash: null, last_name_hash: null, zip_hash: null, country_hash: null });
    // A moved member is no change to Google, which never had the address.
    await p.write(people.map((m) => (m.customer_id === 'B' ? { ...m, zip: '10002' } : m)));
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', changed: 0, requests: 0 });
  });

  it('a member revoking consent (source row still there) takes its address out', async () => {
    p = await setupFor(driver);
    await p.write(people);
    await p.run();
    expect(addresses()).toHaveLength(2);
    const next = people.map((m) => (m.customer_id === 'B' ? { ...m, ads_consent: false } : m));
    await p.write(next);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(next));
  });

  it('a member deleted from the source has its address removed with its email', async () => {
    p = await setupFor(driver);
    await p.write(people);
    await p.run();
    await p.write(people.slice(0, 1)); // B is deleted (say, a GDPR erasure)
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1, failed: 0 });
    expect(driver.held(p.sandbox)).toEqual(driver.expected(people.slice(0, 1)));
    expect(addresses()).toEqual([addressOf(people[0]!)]);
    expect(await changes(p, "op = 'remove'")).toEqual([expect.objectContaining({ member_key: 'B', status: 'sent' })]);
    expect(await snapshot()).toEqual([{ member_key: 'A', address_key: addressOf(people[0]!) }]);
  });

  it('a changed last name or postal code replaces the address: the old one removed, the new one added', async () => {
    p = await setupFor(driver);
    await p.write(people);
    await p.run();
    const moved = people.map((m) => (m.customer_id === 'B' ? { ...m, last_name: 'Wolf', zip: '10002' } : m));
    await p.write(moved);
    const writesBefore = rowWritesTo(driver).length;
    const s = (await p.run()).syncs[0]!;
    expect(s).toMatchObject({ status: 'success', changed: 1, failed: 0 });
    expect(rowWritesTo(driver).length).toBeGreaterThan(writesBefore);
    expect(addresses()).toEqual(expectedGoogle(moved).address);
    expect(addresses()).not.toContain(addressOf(people[1]!));
    expect(addresses()).toContain(addressOf(moved[1]!));
    expect(driver.held(p.sandbox)).toEqual(driver.expected(moved));
    expect(await snapshot()).toEqual([
      { member_key: 'A', address_key: addressOf(people[0]!) },
      { member_key: 'B', address_key: addressOf(moved[1]!) },
    ]);

    // A region code change is a new address too (a postal code means nothing without its region).
    const abroad = moved.map((m) => (m.customer_id === 'A' ? { ...m, country: 'GB', zip: 'SW1A 1AA' } : m));
    await p.write(abroad);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', changed: 1 });
    expect(addresses()).toEqual(expectedGoogle(abroad).address);
    expect(addresses()).toContain(`${sha256('ann')}|${sha256('lee')}|GB|SW1A 1AA`);
    // And nothing more to do.
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 });
  });

  it('an address two members share stays while either holds it and goes with the last', async () => {
    // C lives with A (same names and address, another email): one address in the list for both.
    const c: Member = { ...people[0]!, customer_id: 'C', email: 'ann.lee@work.example' };
    const household = [...people, c];
    p = await setupFor(driver);
    await p.write(household);
    await p.run();
    expect(addresses()).toEqual(expectedGoogle(household).address);
    expect(addresses()).toHaveLength(2);

    await p.write(household.filter((m) => m.customer_id !== 'A')); // A deleted: C still holds the address
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1 });
    expect(addresses()).toContain(addressOf(c));
    expect(driver.held(p.sandbox).email).not.toContain(sha256('ann@example.com'));
    expect(driver.held(p.sandbox)).toEqual(driver.expected([people[1]!, c]));

    await p.write([people[1]!, { ...c, ads_consent: false }]); // C revokes consent: the last holder leaves
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1 });
    expect(addresses()).toEqual([addressOf(people[1]!)]);
    expect(driver.held(p.sandbox)).toEqual(driver.expected([people[1]!]));
  });

  it('a member moving to an address another member holds: its old one goes, the shared one stays when the other moves away', async () => {
    p = await setupFor(driver);
    await p.write(people);
    await p.run();
    // B's record takes A's names and address (a household merged in the CRM): one address for both
    // now, B's old one goes, A's is not removed.
    const together = people.map((m) => (m.customer_id === 'B' ? { ...m, first_name: 'Ann', last_name: 'Lee', zip: '94105' } : m));
    await p.write(together);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', changed: 1 });
    expect(addresses()).toEqual([addressOf(people[0]!)]);

    const apart = together.map((m) => (m.customer_id === 'A' ? { ...m, zip: '94110' } : m)); // A moves out
    await p.write(apart);
    expect((await p.run()).syncs[0]).toMatchObject({ status: 'success', changed: 1 });
    expect(addresses()).toEqual(expectedGoogle(apart).address);
    expect(addresses()).toContain(addressOf(people[0]!)); // still B's
    expect(addresses()).toHaveLength(2);
  });

  it('the snapshot keeps the address as sent (names hashed, region and postal code plain), and never a name in plain text', async () => {
    p = await setupFor(driver);
    const messy = [{ ...people[0]!, first_name: ' ANN ', last_name: "Lee-O'Hara", zip: ' 94105-1234 ', country: ' us ' }];
    await p.write(messy);
    await p.run();
    const rows = await p.query<Record<string, unknown>>(`SELECT * FROM audsync.audsync_snapshots`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      first_name_hash: sha256('ann'),
      last_name_hash: sha256('leeohara'),
      zip_hash: sha256('94105'),
      country_hash: sha256('US'),
      address_key: `${sha256('ann')}|${sha256('leeohara')}|US|94105`,
    });
    expect(addresses()).toEqual([rows[0]!.address_key]);
    // Names and emails only as hashes (hex digits never spell 'ann' or 'lee'); region and postal code plain.
    const text = JSON.stringify(rows).toLowerCase();
    for (const plain of ['ann', 'lee', 'hara', 'example.com']) expect(text).not.toContain(plain);
  });
});

/**
 * Snapshots written before address_key existed (migration 4) hold each part's hash only: the region
 * and postal code cannot be read back from them. Simulated by dropping the columns of migrations 4
 * and 5 after a first run (the hash columns and fingerprints are what older versions wrote) and
 * letting migrate() add them.
 */
describe.each([googleDataManagerDriver, googleAdsDriver])('Google addresses after an upgrade: $label', (driver) => {
  const people: Member[] = [
    { customer_id: 'A', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee', zip: '94105', country: 'US', ads_consent: true },
    { customer_id: 'B', email: 'bob@example.com', first_name: 'Bob', last_name: 'Ray', zip: '10001', country: 'US', ads_consent: true },
    { customer_id: 'C', email: 'cy@example.com', first_name: 'Cy', last_name: 'Ode', zip: 'EC1A 1BB', country: 'GB', ads_consent: true },
  ];
  const addresses = () => driver.held(p!.sandbox).address;

  async function syncedByAnOlderVersion() {
    p = await setupFor(driver);
    await p.write(people);
    await p.run();
    // Older than source fingerprints too (migration 5): every member is normalized again.
    for (const column of ['address_key', 'source_fingerprint', 'kinds_mask']) await p.query(`ALTER TABLE audsync.audsync_snapshots DROP COLUMN ${column}`);
    await p.query(`DELETE FROM audsync.audsync_migrations WHERE version >= 4`);
  }
  const keys = async () => (await p!.query<{ member_key: string; address_key: string | null }>(`SELECT member_key, address_key FROM audsync.audsync_snapshots ORDER BY 1`));

  it('the first run after the upgrade sends nothing and fills in the keys of members whose source still matches; a later deletion removes the address', async () => {
    await syncedByAnOlderVersion();
    expect((await p!.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 });
    expect((await keys()).map((k) => [k.member_key, k.address_key])).toEqual(
      people.map((m) => [m.customer_id, expectedGoogle([m]).address[0]]),
    );
    await p!.write(people.filter((m) => m.customer_id !== 'C'));
    expect((await p!.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1, failed: 0 });
    expect(driver.held(p!.sandbox)).toEqual(driver.expected(people.slice(0, 2)));
  });

  it('in the first run after the upgrade, a member revoking consent has its address removed (read back from its source row); one changing its email keeps it', async () => {
    await syncedByAnOlderVersion();
    const next = people.map((m) => (m.customer_id === 'A' ? { ...m, ads_consent: false } : m.customer_id === 'B' ? { ...m, email: 'bob.ray@example.com' } : m));
    await p!.write(next);
    expect((await p!.run()).syncs[0]).toMatchObject({ status: 'success', removed: 1, changed: 1, failed: 0 });
    expect(driver.held(p!.sandbox)).toEqual(driver.expected(next));
    expect((await keys()).map((k) => [k.member_key, k.address_key])).toEqual([
      ['B', expectedGoogle([next[1]!]).address[0]],
      ['C', expectedGoogle([next[2]!]).address[0]],
    ]);
  });

  it('a member whose postal code changed before the first run after the upgrade: the new address is added, the old one reported unrecoverable', async () => {
    await syncedByAnOlderVersion();
    const next = people.map((m) => (m.customer_id === 'B' ? { ...m, zip: '10002' } : m));
    await p!.write(next);
    const result = await p!.run();
    expect(result.syncs[0]).toMatchObject({ status: 'partial', changed: 0, failed: 1 });
    // The old postal code is known only by its hash: the old address stays in the list, and audsync says so.
    expect(addresses()).toEqual([...expectedGoogle(next).address, expectedGoogle([people[1]!]).address[0]!].sort());
    expect(await changes(p!, "member_key = 'B' AND op = 'change'")).toEqual([expect.objectContaining({ status: 'dead', error_code: 'unrecoverable' })]);
    // The snapshot holds the new address; nothing is retried.
    expect((await keys()).find((k) => k.member_key === 'B')!.address_key).toBe(expectedGoogle([next[1]!]).address[0]);
    expect((await p!.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 });
  });

  it('a member deleted before the first run after the upgrade: its email is removed, its address is reported unrecoverable (dead letter, partial)', async () => {
    await syncedByAnOlderVersion();
    await p!.write(people.filter((m) => m.customer_id !== 'C'));
    const result = await p!.run();
    expect([result.status, exitCodeFor(result.status)]).toEqual(['partial', EXIT.partial]);
    expect(result.syncs[0]).toMatchObject({ status: 'partial', failed: 1 });
    expect(driver.held(p!.sandbox).email).toEqual(driver.expected(people.slice(0, 2)).email);
    // What the docs say happens: the address stays in the list; audsync_changes says so.
    expect(addresses()).toContain(expectedGoogle([people[2]!]).address[0]);
    expect(await changes(p!, "member_key = 'C' AND op = 'remove'")).toEqual([expect.objectContaining({ status: 'dead', error_code: 'unrecoverable' })]);
    expect((await keys()).map((k) => k.member_key)).toEqual(['A', 'B']);
    expect((await p!.run()).syncs[0]).toMatchObject({ status: 'success', requests: 0 }); // not retried
  });
});
