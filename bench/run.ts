// `npm run bench`: audsync against a synthetic CRM of 1M and 10M members (--sizes), each run in a
// child process of its own so its peak RSS and JS heap are its own, against the Meta simulator in
// another process, with the floors measured on the same machine in the same session:
//   (a) the warehouse floor: a fresh DuckDB process running the model's SQL and a FULL OUTER JOIN
//       against the previous state on the member key, comparing raw columns (floor.ts);
//   (b) the delivery floor: the simulator's configured rate limit, in a small throttled variant.
// Prints a table and writes bench/results/<timestamp>.json.
//
//   npm run bench -- --sizes 1e6,1e7 --memory-limit 1GB [--threads 2] [--no-throttled] [--keep]
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { SANDBOX_TOKEN } from '../src/sandbox/token.js';
import type { MetaSimulatorOptions } from '../src/sandbox/meta/simulator.js';
import { churnSql, createCrmSql, MODEL_SQL } from './crm.js';
import type { FloorResult } from './floor.js';
import { DATABASE_FILE, TOKEN_ENV, writeProject, type ProjectSettings } from './project.js';
import type { SimulatorStats } from './simulator.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const BIN = join(ROOT, 'bin', 'audsync.js');
const PROBE = pathToFileURL(join(HERE, 'probe.mjs')).href;
const MB = 1024 * 1024;

interface Args {
  sizes: number[];
  memoryLimit: string;
  threads?: number;
  throttled: boolean;
  keep: boolean;
  /** Repeat the smallest size's initial run into a sink simulator, for the client's own delivery rate. */
  clientSide: boolean;
  /** Unthrottled delivery: concurrent requests per sync (destination limits.concurrency). */
  concurrency?: number;
  /** Members of the one-identifier delivery run (benchOneKey); 0 skips it. */
  oneKey: number;
  /** Churn and no-change runs per size, each after its own churn: a shared machine's noise shows as their spread. */
  rounds: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [1e6, 1e7], memoryLimit: '1GB', throttled: true, keep: false, clientSide: true, oneKey: 2e6, rounds: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--sizes') args.sizes = value().split(',').map((s) => Math.round(Number(s)));
    else if (flag === '--memory-limit') args.memoryLimit = value();
    else if (flag === '--threads') args.threads = Number(value());
    else if (flag === '--concurrency') args.concurrency = Number(value());
    else if (flag === '--no-throttled') args.throttled = false;
    else if (flag === '--no-client-side') args.clientSide = false;
    else if (flag === '--one-key') args.oneKey = Math.round(Number(value()));
    else if (flag === '--rounds') args.rounds = Math.max(1, Math.round(Number(value())));
    else if (flag === '--keep') args.keep = true;
    else throw new Error(`unknown flag ${flag} (try --sizes 1e6,1e7 --memory-limit 1GB --threads 2 --concurrency 4 --no-throttled --no-client-side --one-key 2e6 (0: skip) --rounds 3 --keep)`);
  }
  if (args.sizes.some((n) => !(n >= 1000))) throw new Error('--sizes takes member counts such as 1e6,1e7');
  return args;
}

// ---------------------------------------------------------------------------------------------
// The simulator process

interface Simulator {
  url: string;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

async function startSimulator(options: MetaSimulatorOptions & { sink?: boolean } = {}): Promise<Simulator> {
  const child = fork(join(HERE, 'simulator.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((done, fail) => {
    child.once('message', (m: { url?: string }) => (m.url ? done(m.url) : fail(new Error('simulator did not start'))));
    child.once('exit', (code) => fail(new Error(`simulator exited with ${code}`)));
  });
  const ask = () =>
    new Promise<SimulatorStats>((done) => {
      const on = (m: { stats?: SimulatorStats }) => {
        if (!m.stats) return;
        child.off('message', on);
        done(m.stats);
      };
      child.on('message', on);
      child.send('stats');
    });
  return {
    url,
    stats: ask,
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.send('close');
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes: the floor, and audsync itself

function runChild(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('exit', (code) => done({ code: code ?? 1, stdout, stderr, wallMs: performance.now() - started }));
  });
}

async function measureFloor(db: string, a: Args): Promise<FloorResult & { wallMs: number }> {
  const r = await runChild(['--import', 'tsx', join(HERE, 'floor.ts'), JSON.stringify({ db, memoryLimit: a.memoryLimit, threads: a.threads })]);
  if (r.code !== 0) throw new Error(`floor process failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as FloorResult), wallMs: r.wallMs };
}

interface Probe {
  /** Statements (DuckDB run()) of 50 ms or more: ms, start (ms since process start), SQL head. */
  statements: { ms: number; at: number; sql: string }[];
  maxRssBytes: number;
  /** The sampled RSS peak, when, and the statement then running (none: JS work, e.g. delivery). */
  rssPeakSampled: { bytes: number; at: number; during?: string };
  /** Sampled every 20 ms: live objects plus garbage not yet collected. */
  heapUsedMaxBytes: number;
  /** Used heap right after each major GC: the live set, which must not grow with audience size. */
  heapLiveAfterGcMaxBytes: number;
  heapTotalMaxBytes: number;
  externalMaxBytes: number;
  arrayBuffersMaxBytes: number;
  cpuSeconds: number;
}

interface AudsyncRun {
  wallMs: number;
  exitCode: number;
  status: string;
  members: number;
  added: number;
  removed: number;
  changed: number;
  failed: number;
  rowsToSend: { add: number; remove: number };
  requests: number;
  /** materialize (the model, once per run), then the sync's own phases, from the run's log. */
  phasesMs: Record<string, number>;
  probe: Probe;
}

async function runAudsync(dir: string): Promise<AudsyncRun> {
  const probeFile = join(dir, `probe-${Date.now()}.json`);
  const env = { ...process.env, [TOKEN_ENV]: SANDBOX_TOKEN, AUDSYNC_BENCH_PROBE: probeFile };
  const r = await runChild(['--import', PROBE, BIN, 'run', '--json', '--project-dir', dir, '--log-format', 'json', '--log-level', 'info'], env);
  let result: { status: string; syncs: Record<string, any>[] };
  try {
    result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  } catch {
    throw new Error(`audsync run printed no JSON (exit ${r.code}): ${r.stderr.slice(-2000)}`);
  }
  const sync = result.syncs[0];
  if (!sync) throw new Error(`audsync run had no sync: ${r.stdout}`);
  if (sync.status !== 'success') throw new Error(`audsync run ${sync.status}: ${sync.error}`);
  const probe = JSON.parse(await readFile(probeFile, 'utf8')) as Probe;
  const { at } = probe.rssPeakSampled;
  const atPeak = probe.statements.find((st) => st.at <= at && at <= st.at + st.ms);
  probe.rssPeakSampled = { ...probe.rssPeakSampled, ...(atPeak ? { during: atPeak.sql.slice(0, 80) } : {}) };
  probe.statements = probe.statements.sort((x, y) => y.ms - x.ms).slice(0, 15);
  const phasesMs: Record<string, number> = {};
  for (const line of r.stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; duration_ms?: number; phases_ms?: Record<string, number> };
    if (entry.msg === 'model materialized' && entry.duration_ms !== undefined) phasesMs.materialize = (phasesMs.materialize ?? 0) + entry.duration_ms;
    if (entry.phases_ms) for (const [k, v] of Object.entries(entry.phases_ms)) phasesMs[k] = (phasesMs[k] ?? 0) + v;
  }
  return {
    wallMs: r.wallMs,
    exitCode: r.code,
    status: sync.status,
    members: sync.members,
    added: sync.added,
    removed: sync.removed,
    changed: sync.changed,
    failed: sync.failed,
    rowsToSend: sync.rows_to_send,
    requests: sync.requests,
    phasesMs,
    probe,
  };
}

// ---------------------------------------------------------------------------------------------
// The CRM, in the project's DuckDB file (the bench process never holds it open during a run)

async function withDb<T>(file: string, work: (run: (sql: string) => Promise<void>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  try {
    return await work(async (sql) => void (await c.run(sql)));
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

// ---------------------------------------------------------------------------------------------

interface RunRecord {
  run: 'initial' | 'churn' | 'no change';
  /** 1-minute load average before and after: other work on the machine skews a run. */
  loadAverage: [number, number];
  setupMs: number;
  floor: FloorResult & { wallMs: number };
  audsync: AudsyncRun;
  simulator: { rowsAdded: number; rowsRemoved: number; bytes: number; requests: number; throttled: number; cpuSeconds: number };
  /** audsync's wall time over the floor process's. */
  ratio: number;
  /** rows the simulator received per second of the deliver phase. */
  deliveredRowsPerSecond: number | null;
}

interface SizeRecord {
  members: number;
  dir: string;
  generateMs: number;
  simulatorMaxRssBytes: number;
  runs: RunRecord[];
  /** A run that failed: the later runs of this size were skipped. */
  error?: string;
  /** The initial run again, into a simulator that acknowledges without parsing: the client's own rate. */
  clientSide?: { rowsSent: number; deliverMs: number; rowsPerSecond: number; wallMs: number; cpuSeconds: number };
}

async function benchSize(members: number, a: Args, clientSideRun: boolean): Promise<SizeRecord> {
  const dir = await mkdtemp(join(tmpdir(), `audsync-bench-${members}-`));
  const sim = await startSimulator();
  const settings: ProjectSettings = {
    memoryLimit: a.memoryLimit,
    threads: a.threads,
    metaUrl: sim.url,
    // Unthrottled: the loopback simulator enforces no limit, so neither does the destination.
    limits: { requests_per_second: 100_000, ...(a.concurrency ? { concurrency: a.concurrency } : {}) },
  };
  await writeProject(dir, settings);
  const db = join(dir, DATABASE_FILE);
  log(`${fmtMembers(members)}: generating the CRM in ${dir}`);
  let t = performance.now();
  await withDb(db, async (run) => {
    for (const sql of createCrmSql(members)) await run(sql);
    await run('CREATE SCHEMA bench_floor');
    await run(`CREATE TABLE bench_floor.prev AS ${MODEL_SQL} LIMIT 0`);
  });
  const generateMs = performance.now() - t;
  const runs: RunRecord[] = [];
  let simulatorMaxRssBytes = 0;
  let error: string | undefined;
  let clientSide: SizeRecord['clientSide'];
  try {
    const plan = ['initial', ...Array.from({ length: a.rounds }, () => ['churn', 'no change'] as const).flat()] as RunRecord['run'][];
    let round = 0;
    for (const name of plan) {
      t = performance.now();
      if (name === 'churn') {
        // Each round adds 1% new members after the last round's, so no key repeats.
        const adds = Math.round(members * 0.01);
        round++;
        await withDb(db, (run) => sequence(run, churnSql(members, members + (round - 1) * adds, round)));
      }
      const setupMs = performance.now() - t;
      log(`${fmtMembers(members)} ${name}: floor (a)`);
      const floor = await measureFloor(db, a);
      const before = await sim.stats();
      log(`${fmtMembers(members)} ${name}: audsync run (floor ${sec(floor.processMs)} s)`);
      const loadBefore = loadavg()[0]!;
      const audsync = await runAudsync(dir);
      const after = await sim.stats();
      const simulator = {
        rowsAdded: after.rowsAdded - before.rowsAdded,
        rowsRemoved: after.rowsRemoved - before.rowsRemoved,
        bytes: after.bytes - before.bytes,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      };
      const sent = simulator.rowsAdded + simulator.rowsRemoved;
      const deliver = audsync.phasesMs.deliver;
      const record: RunRecord = {
        run: name,
        loadAverage: [loadBefore, loadavg()[0]!],
        setupMs,
        floor,
        audsync,
        simulator,
        ratio: audsync.wallMs / floor.processMs,
        deliveredRowsPerSecond: sent > 0 && deliver ? sent / (deliver / 1000) : null,
      };
      runs.push(record);
      log(`${fmtMembers(members)} ${name}: ${sec(audsync.wallMs)} s, ${fmtRatio(record.ratio)} floor, RSS ${Math.round(audsync.probe.maxRssBytes / MB)} MB, phases ${JSON.stringify(audsync.phasesMs)}`);
    }
    if (clientSideRun) {
      // The simulator parses and checks every row on one core; to see what the client alone does,
      // the first sync is repeated from scratch into a sink that acknowledges without parsing.
      const sink = await startSimulator({ sink: true });
      try {
        await withDb(db, (run) => run('DROP SCHEMA audsync CASCADE'));
        await writeProject(dir, { ...settings, metaUrl: sink.url });
        log(`${fmtMembers(members)}: initial run again into a sink (client side only)`);
        const before = await sink.stats();
        const run = await runAudsync(dir);
        const after = await sink.stats();
        const rowsSent = after.rowsAdded - before.rowsAdded;
        const deliverMs = run.phasesMs.deliver ?? NaN;
        clientSide = { rowsSent, deliverMs, rowsPerSecond: rowsSent / (deliverMs / 1000), wallMs: run.wallMs, cpuSeconds: run.probe.cpuSeconds };
        log(`${fmtMembers(members)}: client side ${fmtRate(clientSide.rowsPerSecond)} rows/s`);
      } finally {
        await sink.close();
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    log(`${fmtMembers(members)}: FAILED, later runs of this size skipped: ${error}`);
  } finally {
    simulatorMaxRssBytes = (await sim.stats()).maxRssBytes;
    await sim.close();
    if (!a.keep) await rm(dir, { recursive: true, force: true });
    log(`${fmtMembers(members)}: simulator peak RSS ${Math.round(simulatorMaxRssBytes / MB)} MB`);
  }
  return { members, dir, generateMs, simulatorMaxRssBytes, runs, ...(error ? { error } : {}), ...(clientSide ? { clientSide } : {}) };
}

async function sequence(run: (sql: string) => Promise<void>, statements: string[]): Promise<void> {
  for (const sql of statements) await run(sql);
}

/** Floor (b): a small audience through a rate-limited simulator; how close delivery gets to the limit. */
interface ThrottledRecord {
  members: number;
  requestsPerSecond: number;
  batchSize: number;
  rowsSent: number;
  requests: number;
  throttledAnswers: number;
  deliverMs: number;
  /** What the rate limit allows: requestsPerSecond x batchSize rows per second. */
  floorRowsPerSecond: number;
  rowsPerSecond: number;
  /** rowsPerSecond / floorRowsPerSecond */
  share: number;
}

async function benchThrottled(a: Args): Promise<ThrottledRecord> {
  const members = 200_000;
  const requestsPerSecond = 20;
  const batchSize = 1000;
  const dir = await mkdtemp(join(tmpdir(), 'audsync-bench-throttled-'));
  const sim = await startSimulator({ rateLimit: { requestsPerSecond } });
  try {
    await writeProject(dir, { memoryLimit: a.memoryLimit, threads: a.threads, metaUrl: sim.url, limits: { requests_per_second: requestsPerSecond, batch_size: batchSize } });
    await withDb(join(dir, DATABASE_FILE), (run) => sequence(run, createCrmSql(members)));
    log(`throttled: ${fmtMembers(members)} members at ${requestsPerSecond} requests/s x ${batchSize} rows`);
    const before = await sim.stats();
    const run = await runAudsync(dir);
    const after = await sim.stats();
    const rowsSent = after.rowsAdded - before.rowsAdded + (after.rowsRemoved - before.rowsRemoved);
    const deliverMs = run.phasesMs.deliver ?? NaN;
    const floorRowsPerSecond = requestsPerSecond * batchSize;
    const rowsPerSecond = rowsSent / (deliverMs / 1000);
    return {
      members,
      requestsPerSecond,
      batchSize,
      rowsSent,
      requests: after.requests - before.requests,
      throttledAnswers: after.throttled - before.throttled,
      deliverMs,
      floorRowsPerSecond,
      rowsPerSecond,
      share: rowsPerSecond / floorRowsPerSecond,
    };
  } finally {
    await sim.close();
    if (!a.keep) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Unthrottled delivery of one identifier per row (an email-only list, the commonest customer list):
 * the main runs send six hashes a row (~400 bytes of JSON), so their rows/s says as much about
 * bytes as rows. A first sync of `members` into the parsing simulator.
 */
interface OneKeyRecord {
  members: number;
  rowsSent: number;
  bytes: number;
  deliverMs: number;
  rowsPerSecond: number;
  megabytesPerSecond: number;
  simulatorCpuSeconds: number;
}

async function benchOneKey(a: Args, members: number): Promise<OneKeyRecord> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-bench-onekey-'));
  const sim = await startSimulator();
  try {
    await writeProject(dir, { memoryLimit: a.memoryLimit, threads: a.threads, metaUrl: sim.url, identifiers: '{ email: email }', limits: { requests_per_second: 100_000, ...(a.concurrency ? { concurrency: a.concurrency } : {}) } });
    await withDb(join(dir, DATABASE_FILE), (run) => sequence(run, createCrmSql(members)));
    log(`one identifier: ${fmtMembers(members)} members, email only, unthrottled`);
    const before = await sim.stats();
    const run = await runAudsync(dir);
    const after = await sim.stats();
    const rowsSent = after.rowsAdded - before.rowsAdded;
    const bytes = after.bytes - before.bytes;
    const deliverMs = run.phasesMs.deliver ?? NaN;
    return {
      members,
      rowsSent,
      bytes,
      deliverMs,
      rowsPerSecond: rowsSent / (deliverMs / 1000),
      megabytesPerSecond: bytes / MB / (deliverMs / 1000),
      simulatorCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    };
  } finally {
    await sim.close();
    if (!a.keep) await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Targets (issue 7), judged at the largest size of at least 10M members that ran

interface Target {
  name: string;
  value: string;
  target: string;
  pass: boolean | null;
}

function targets(sizes: SizeRecord[], throttled: ThrottledRecord | undefined, oneKey: OneKeyRecord | undefined): Target[] {
  const big = [...sizes].reverse().find((s) => s.members >= 1e7) ?? sizes.at(-1);
  const small = sizes.find((s) => s.members === 1e6) ?? sizes[0];
  const out: Target[] = [];
  if (!big) return out;
  const at = `at ${fmtMembers(big.members)}`;
  const run = (name: RunRecord['run'], s: SizeRecord = big) => s.runs.find((r) => r.run === name);
  if (big.error) out.push({ name: `runs ${at}`, value: `failed: ${big.error.slice(0, 200)}`, target: 'every run succeeds', pass: false });
  // With several rounds, the median run is judged and every ratio shown.
  const judged = (name: RunRecord['run'], label: string, limit: number) => {
    const ratios = big.runs.filter((r) => r.run === name).map((r) => r.ratio);
    if (ratios.length === 0) return;
    const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
    const all = ratios.length > 1 ? ` (median of ${ratios.map(fmtRatio).join(', ')})` : '';
    out.push({ name: `${label} ${at}`, value: `${fmtRatio(median)} floor (a)${all}`, target: `<= ${limit}x`, pass: median <= limit });
  };
  judged('churn', '1%-churn run', 2);
  judged('no change', 'no-change run', 1.5);
  const rss = Math.max(...big.runs.map((r) => r.audsync.probe.maxRssBytes));
  out.push({ name: `peak RSS ${at} (memory_limit from config)`, value: `${Math.round(rss / MB)} MB`, target: '<= 1536 MB', pass: rss <= 1.5 * 1024 * MB });
  if (small && small !== big) {
    for (const [label, key] of [
      ['live JS heap (after major GC)', 'heapLiveAfterGcMaxBytes'],
      ['JS heap used, sampled high-water', 'heapUsedMaxBytes'],
    ] as const) {
      const heap = (s: SizeRecord) => Math.max(...s.runs.map((r) => r.audsync.probe[key]));
      const ratio = heap(big) / heap(small);
      out.push({
        name: `${label} ${fmtMembers(big.members)} / ${fmtMembers(small.members)}`,
        value: `${Math.round(heap(big) / MB)} / ${Math.round(heap(small) / MB)} MB = ${ratio.toFixed(2)}x`,
        target: '<= 1.3x',
        pass: ratio <= 1.3,
      });
    }
  }
  const initial = run('initial');
  if (initial?.deliveredRowsPerSecond) {
    const rate = initial.deliveredRowsPerSecond;
    const mbs = initial.simulator.bytes / MB / (initial.audsync.phasesMs.deliver! / 1000);
    out.push({ name: `unthrottled delivery ${at} (initial run, six hashes a row)`, value: `${fmtRate(rate)} rows/s, ${mbs.toFixed(0)} MB/s`, target: '>= 1M rows/s', pass: rate >= 1e6 });
  }
  if (oneKey) {
    out.push({
      name: `unthrottled delivery at ${fmtMembers(oneKey.members)} (initial run, one hash a row)`,
      value: `${fmtRate(oneKey.rowsPerSecond)} rows/s, ${oneKey.megabytesPerSecond.toFixed(0)} MB/s`,
      target: '>= 1M rows/s',
      pass: oneKey.rowsPerSecond >= 1e6,
    });
  }
  const client = sizes.find((s) => s.clientSide)?.clientSide;
  if (client) {
    const size = sizes.find((s) => s.clientSide)!.members;
    out.push({
      name: `client-side delivery at ${fmtMembers(size)} (initial run into a sink that does not parse)`,
      value: `${fmtRate(client.rowsPerSecond)} rows/s`,
      target: '>= 1M rows/s',
      pass: client.rowsPerSecond >= 1e6,
    });
  }
  if (throttled) {
    out.push({
      name: `throttled delivery (${throttled.requestsPerSecond} req/s x ${throttled.batchSize} rows)`,
      value: `${(throttled.share * 100).toFixed(0)}% of the limit`,
      target: '>= 90%',
      pass: throttled.share >= 0.9,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Output

const sec = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(1));
const fmtRatio = (r: number) => `${r.toFixed(2)}x`;
const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${Math.round(r / 1000)}k`);
const fmtMembers = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1000)}k`);
const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function table(sizes: SizeRecord[]): string {
  const head = ['members', 'run', 'rows sent', 'wall s', 'materialize', 'diff', 'deliver', 'commit', 'audit', 'other', 'floor (a) s', 'x floor', 'peak RSS MB', 'JS heap MB', 'live heap MB', 'rows/s sent'];
  const rows: string[][] = [];
  for (const s of sizes) {
    for (const r of s.runs) {
      const p = r.audsync.phasesMs;
      const known = ['materialize', 'prepare', 'diff', 'deliver', 'commit', 'audit'].reduce((sum, k) => sum + (p[k] ?? 0), 0);
      rows.push([
        fmtMembers(s.members),
        r.run,
        String(r.simulator.rowsAdded + r.simulator.rowsRemoved),
        sec(r.audsync.wallMs),
        sec(p.materialize),
        sec(p.diff),
        sec(p.deliver),
        sec(p.commit),
        sec(p.audit),
        sec(r.audsync.wallMs - known),
        sec(r.floor.processMs),
        fmtRatio(r.ratio),
        String(Math.round(r.audsync.probe.maxRssBytes / MB)),
        String(Math.round(r.audsync.probe.heapUsedMaxBytes / MB)),
        String(Math.round(r.audsync.probe.heapLiveAfterGcMaxBytes / MB)),
        r.deliveredRowsPerSecond ? fmtRate(r.deliveredRowsPerSecond) : '-',
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    node: process.version,
    duckdb: JSON.parse(await readFile(join(ROOT, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version as string,
  };
  log(`machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, duckdb ${machine.duckdb}`);
  const sizes: SizeRecord[] = [];
  const smallest = Math.min(...a.sizes);
  for (const members of a.sizes) sizes.push(await benchSize(members, a, a.clientSide && members === smallest));
  const throttled = a.throttled ? await benchThrottled(a) : undefined;
  const oneKey = a.oneKey > 0 ? await benchOneKey(a, a.oneKey) : undefined;
  const verdicts = targets(sizes, throttled, oneKey);

  const out: string[] = ['', table(sizes), ''];
  for (const s of sizes) if (s.error) out.push(`${fmtMembers(s.members)}: a run failed, later runs skipped: ${s.error}`, '');
  for (const s of sizes) {
    const initial = s.runs.find((r) => r.run === 'initial');
    const deliver = initial?.audsync.phasesMs.deliver;
    if (initial && deliver) {
      out.push(
        `${fmtMembers(s.members)} initial: the simulator was busy ${initial.simulator.cpuSeconds.toFixed(1)} CPU s of the ${sec(deliver)} s deliver phase` +
          (s.clientSide ? `; into a sink that does not parse, the client sends ${fmtRate(s.clientSide.rowsPerSecond)} rows/s` : ''),
      );
    }
  }
  out.push('');
  if (throttled) {
    out.push(
      `throttled (floor b): ${throttled.rowsSent} rows in ${throttled.requests} requests at ${throttled.requestsPerSecond} req/s x ${throttled.batchSize} rows: ` +
        `${fmtRate(throttled.rowsPerSecond)} rows/s of ${fmtRate(throttled.floorRowsPerSecond)} allowed (${(throttled.share * 100).toFixed(0)}%), ${throttled.throttledAnswers} throttled answers`,
      '',
    );
  }
  if (oneKey) {
    out.push(
      `one hash a row: ${oneKey.rowsSent} rows (${(oneKey.bytes / MB).toFixed(0)} MB of requests) in ${sec(oneKey.deliverMs)} s: ` +
        `${fmtRate(oneKey.rowsPerSecond)} rows/s, ${oneKey.megabytesPerSecond.toFixed(0)} MB/s; the simulator was busy ${oneKey.simulatorCpuSeconds.toFixed(1)} CPU s`,
      '',
    );
  }
  for (const v of verdicts) out.push(`${v.pass === null ? '?' : v.pass ? 'PASS' : 'FAIL'}  ${v.name}: ${v.value} (target ${v.target})`);
  process.stdout.write(out.join('\n') + '\n');

  const resultsDir = join(HERE, 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ machine, args: a, sizes, throttled, oneKey, targets: verdicts }, null, 2) + '\n');
  log(`wrote ${file}`);
}

await main();
