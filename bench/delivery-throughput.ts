// Delivery throughput against the loopback simulators, through the real runner (DuckDB project, the
// model reading a CSV): `npx tsx bench/delivery-throughput.ts`. Not part of `npm test`.
//
// 1. Rate-limited: the simulator enforces R requests per second per ad account (Meta) or per project
//    (Google Data Manager, a 1 s window); the destination sets limits.requests_per_second to R, then
//    to 90% of R; enough rows for about 10 s of sending. Target: >= 90% of R sustained, and no
//    throttle answer (the client's strict sliding window should stay under the simulator's).
// 2. Unthrottled: 200,000 rows to Meta with no simulator limit and a client limit far above what
//    loopback can do; rows/s for the delivery phase and for the whole run (DuckDB included).
//
// Options (env): BENCH_RPS (default 20), BENCH_BATCH (default 100), BENCH_SECONDS (default 10),
// BENCH_BIG_ROWS (default 200000). Bounded: about a minute in all on two cores. Exit code 1 when
// the at-limit runs miss the target or see a throttle answer.
import { performance } from 'node:perf_hooks';
import { createProject, googleDataManagerDriver, metaDriver, tap, type ConformanceProject, type Member, type Tapped } from '../test/conformance/support.js';

const RPS = Number(process.env.BENCH_RPS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BIG_ROWS = Number(process.env.BENCH_BIG_ROWS ?? 200_000);

interface Measured {
  scenario: string;
  /** The simulator's limit and the client's requests_per_second. */
  serverLimit: number | null;
  clientLimit: number | null;
  rows: number;
  requests: number;
  accepted: number;
  throttled: number;
  otherErrors: number;
  /** First arrival to last answer of the write requests. */
  sendSeconds: number;
  runSeconds: number;
  /** Accepted requests per full second of sending (1 s buckets from the first arrival; the last, partial one left out). */
  sustained: number;
  /** Most requests arriving within any 1 s, as the simulator's window counts them (refused ones included). */
  peak: number;
  rowsPerSec: number;
  rowsPerSecRun: number;
  retries: number;
  status: string;
}

const members = (n: number): Member[] =>
  Array.from({ length: n }, (_, i) => ({ customer_id: `B${i}`, email: `bench.user${i}@example.com`, phone: `+1 212 ${String(2_000_000 + (i % 7_999_999)).padStart(7, '0')}`, ads_consent: true }));

function sustainedRate(accepted: Tapped[]): number {
  if (accepted.length === 0) return 0;
  const first = accepted[0]!.at;
  const buckets = new Map<number, number>();
  for (const t of accepted) {
    const k = Math.floor((t.at - first) / 1000);
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  const last = Math.max(...buckets.keys());
  const full = [...buckets.entries()].filter(([k]) => k < last).map(([, n]) => n);
  return full.length === 0 ? accepted.length : full.reduce((a, b) => a + b, 0) / full.length;
}

function peakPerSecond(writes: Tapped[]): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < writes.length; end++) {
    while (writes[end]!.at - writes[start]!.at >= 1000) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

interface Scenario {
  name: string;
  platform: 'meta' | 'google_dm';
  rows: number;
  serverLimit: number | null;
  clientLimit: number | null;
  batch?: number;
}

async function measure(s: Scenario): Promise<Measured> {
  const driver = s.platform === 'meta' ? metaDriver : googleDataManagerDriver;
  const limits = `{ requests_per_second: ${s.clientLimit ?? 1000}, concurrency: 4${s.batch ? `, batch_size: ${s.batch}` : ''} }`;
  const sandbox =
    s.serverLimit === null ? {} : s.platform === 'meta' ? { meta: { rateLimit: { requestsPerSecond: s.serverLimit } } } : { google: { rateLimit: { requests: s.serverLimit, windowMs: 1000 } } };
  let p: ConformanceProject | undefined;
  try {
    p = await createProject({ destinations: [{ name: 'dest', platform: s.platform, audience: driver.audience, limits }], sandbox, identifiers: '{ email: email, phone: phone }' });
    const log = tap(s.platform === 'meta' ? p.sandbox.meta : p.sandbox.google);
    await p.write(members(s.rows));
    const started = performance.now();
    // Retries at their defaults: a throttle is waited out as in production, and counted.
    const result = await p.run({ retry: {} });
    const runSeconds = (performance.now() - started) / 1000;
    const writes = log.filter((t) => /\/users$|audienceMembers:ingest$/.test(t.path));
    const accepted = writes.filter((t) => t.status === 200);
    const throttled = writes.filter((t) => t.status === 429 || (s.platform === 'meta' && t.status === 400)).length; // Meta: HTTP 400, code 80003
    const sendSeconds = writes.length ? (writes.at(-1)!.at + writes.at(-1)!.ms - writes[0]!.at) / 1000 : 0;
    const [retries] = await p.query<{ n: number }>(`SELECT coalesce(sum(attempts - 1), 0) AS n FROM audsync.audsync_deliveries`);
    const rows = driver.emails(p.sandbox).length;
    return {
      scenario: s.name,
      serverLimit: s.serverLimit,
      clientLimit: s.clientLimit,
      rows,
      requests: writes.length,
      accepted: accepted.length,
      throttled,
      otherErrors: writes.length - accepted.length - throttled,
      sendSeconds,
      runSeconds,
      sustained: sustainedRate(accepted),
      peak: peakPerSecond(writes),
      rowsPerSec: sendSeconds > 0 ? rows / sendSeconds : 0,
      rowsPerSecRun: rows / runSeconds,
      retries: Number(retries?.n ?? 0),
      status: result.syncs[0]!.status,
    };
  } finally {
    await p?.cleanup();
  }
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const rateRows = RPS * BATCH * SECONDS;
  const margin = Math.floor(RPS * 0.9);
  console.log(
    `delivery throughput through the runner: simulator limit ${RPS} req/s, ${BATCH} rows/request, concurrency 4, ~${SECONDS} s of sending ` +
      `(${rateRows.toLocaleString('en-US')} rows); unthrottled: ${BIG_ROWS.toLocaleString('en-US')} rows, 10,000 rows/request\n`,
  );
  const scenarios: Scenario[] = [
    { name: 'meta, client = limit', platform: 'meta', rows: rateRows, serverLimit: RPS, clientLimit: RPS, batch: BATCH },
    { name: 'meta, client = 90%', platform: 'meta', rows: rateRows, serverLimit: RPS, clientLimit: margin, batch: BATCH },
    { name: 'google dm, client = limit', platform: 'google_dm', rows: rateRows, serverLimit: RPS, clientLimit: RPS, batch: BATCH },
    { name: 'google dm, client = 90%', platform: 'google_dm', rows: rateRows, serverLimit: RPS, clientLimit: margin, batch: BATCH },
    { name: 'meta, unthrottled', platform: 'meta', rows: BIG_ROWS, serverLimit: null, clientLimit: null },
  ];
  const results: Measured[] = [];
  for (const s of scenarios) results.push(await measure(s));

  const header = ['scenario', 'server/client req/s', 'rows', 'requests', 'accepted', 'throttled', 'other err', 'retries', 'send s', 'sustained req/s', '% of server limit', 'peak in 1 s', 'rows/s (send)', 'rows/s (whole run)', 'run s', 'status'];
  const table = results.map((r) => [
    r.scenario,
    r.serverLimit === null ? 'none / none' : `${r.serverLimit} / ${r.clientLimit}`,
    r.rows.toLocaleString('en-US'),
    String(r.requests),
    String(r.accepted),
    String(r.throttled),
    String(r.otherErrors),
    String(r.retries),
    fmt(r.sendSeconds, 2),
    fmt(r.sustained, 1),
    r.serverLimit === null ? '-' : `${fmt((100 * r.sustained) / r.serverLimit)}%`,
    String(r.peak),
    fmt(r.rowsPerSec, 0),
    fmt(r.rowsPerSecRun, 0),
    fmt(r.runSeconds, 2),
    r.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));

  console.log('');
  for (const r of results.filter((x) => x.serverLimit !== null)) {
    const share = r.sustained / r.serverLimit!;
    const target = r.clientLimit === r.serverLimit ? ` (${share >= 0.9 ? 'meets' : 'misses'} the 90% target)` : ` (${fmt((100 * r.sustained) / r.clientLimit!)}% of its own ${r.clientLimit}/s)`;
    console.log(
      `${r.scenario}: ${fmt(100 * share)}% of the simulator's limit${target}; ` +
        `${r.throttled === 0 ? 'no throttle answer' : `${r.throttled} throttle answers (${fmt((100 * r.throttled) / r.requests)}% of requests)`}; peak ${r.peak} arrivals in one second`,
    );
  }
  const atLimit = results.filter((r) => r.serverLimit !== null && r.clientLimit === r.serverLimit);
  const ok = atLimit.every((r) => r.sustained >= 0.9 * r.serverLimit! && r.throttled === 0) && results.every((r) => r.status === 'success');
  console.log(`\nverdict: ${ok ? 'PASS' : 'FAIL'} (at the limit: >= 90% sustained and no throttle answer)`);
  process.exitCode = ok ? 0 : 1;
}

await main();
