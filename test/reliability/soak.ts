// The soak (issue 6): many randomized rounds of source changes (adds, removes, email and phone
// changes, consent changes, shared household identifiers, invalid values), each synced by the real
// CLI in a child process against a DuckDB file, while the Meta simulator (in this process, on
// 127.0.0.1 only) answers about 30% of bulk requests with 5xx, throttling, connection resets and
// timeouts, set through AUDSYNC_SANDBOX_FAULTS, and the CLI is killed with SIGKILL at random
// moments. Then the sandbox restarts without faults (same state file) and a calm run must make the
// audience equal the segment exactly, a second calm run must send nothing, no duplicate audience may
// exist, and every failure must be visible in the audit tables.
//
//   npm run soak                               # 60 rounds, at most 15 minutes
//   npm run soak -- --rounds 100 --seconds 1800 --seed 7 --keep
//
// test/reliability/soak.test.ts runs a short version (5 rounds, 2 kills) in `npm test`.
import { queryDuckDbFile } from '../support/duckdb.js';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULTS_ENV, mulberry32 } from '../../src/sandbox/faults.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import type { MetaRequestLogEntry } from '../../src/sandbox/meta/simulator.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';
import { spawnCli, type CliResult } from './helpers.js';

export interface SoakOptions {
  rounds: number;
  /** Rounds stop once this many seconds have passed; the calm run and the checks still happen. */
  maxSeconds: number;
  seed: number;
  /** Share of bulk requests that get a fault (split over 5xx, throttle, reset, timeout). */
  faultRate: number;
  /** Chance that a round's run is killed (random moment); ignored for rounds listed in killRounds. */
  killRate: number;
  /** Rounds (1-based) whose run is always killed, mid-delivery: makes a short soak's kills certain. */
  killRounds?: number[];
  /** Members in the first round. */
  members: number;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface SoakReport {
  rounds: number;
  seconds: number;
  requests: number;
  faultsInjected: number;
  faultsByKind: Record<string, number>;
  kills: number;
  killsByPhase: Record<string, number>;
  exitCodes: Record<string, number>;
  finalAudience: { emails: number; phones: number; members: number };
  runsRecorded: number;
  interruptedRuns: number;
  /** Runs that re-sent every member because an earlier one was killed after sending (runner/recovery.ts). */
  recoveries: number;
  failedRuns: number;
  retriesRecorded: number;
  failedDeliveries: number;
  dir: string;
}

interface Member {
  id: string;
  email: string | null;
  phone: string | null;
  consent: boolean;
}

const TOKEN_ENV = 'AUDSYNC_SOAK_META_TOKEN';
const AUDIENCE = 'Soak members';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const VALID_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** What Meta must hold: each eligible member's email and phone hashes (phones as digits, no '+'). */
function expected(members: Member[]) {
  const eligible = members.filter((m) => m.consent && ((m.email && VALID_EMAIL.test(m.email)) || m.phone));
  const emails = new Set(eligible.flatMap((m) => (m.email && VALID_EMAIL.test(m.email) ? [sha256(m.email.toLowerCase())] : [])));
  const phones = new Set(eligible.flatMap((m) => (m.phone ? [sha256(m.phone.replace(/^\+/, ''))] : [])));
  return { eligible, emails: [...emails].sort(), phones: [...phones].sort() };
}

/** Random source changes, from a seeded PRNG so a failing soak can be replayed with its seed. */
class Population {
  private next = 0;
  members: Member[] = [];
  constructor(private readonly random: () => number) {}

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }
  private chance(p: number) {
    return this.random() < p;
  }
  private phone(): string {
    // +1 415 555 01xx..: US numbers of a valid length (the SQL checks lengths, not assignment).
    return `+1415555${String(1000 + Math.floor(this.random() * 9000))}`;
  }
  private email(id: string): string {
    return this.chance(0.05) ? `broken-${id}` : `${id.toLowerCase()}.${Math.floor(this.random() * 1e6)}@example.com`;
  }

  add(): Member {
    const id = `M${String(this.next++).padStart(5, '0')}`;
    const household = this.members.length > 0 && this.chance(0.15) ? this.pick(this.members) : undefined;
    const member: Member = {
      id,
      email: household?.email && this.chance(0.7) ? household.email : this.chance(0.9) ? this.email(id) : null,
      phone: household?.phone && this.chance(0.5) ? household.phone : this.chance(0.6) ? this.phone() : null,
      consent: this.chance(0.85),
    };
    this.members.push(member);
    return member;
  }

  /** A consented member with an email of its own: a round that must send something. */
  addFresh(): void {
    const id = `M${String(this.next++).padStart(5, '0')}`;
    this.members.push({ id, email: `${id.toLowerCase()}@fresh.example.com`, phone: null, consent: true });
  }

  /** One round of changes: a few percent of the members each way. */
  churn(): Record<string, number> {
    const n = Math.max(1, Math.round(this.members.length * 0.04));
    const counts = { adds: 0, removes: 0, email_changes: 0, phone_changes: 0, consent_changes: 0, shared: 0 };
    for (let i = 0; i < n + Math.floor(this.random() * n); i++, counts.adds++) this.add();
    for (let i = 0; i < n && this.members.length > 1; i++, counts.removes++) this.members.splice(Math.floor(this.random() * this.members.length), 1);
    for (let i = 0; i < n; i++) {
      const m = this.pick(this.members);
      const other = this.pick(this.members);
      if (this.chance(0.5)) {
        m.email = this.chance(0.2) && other.email ? other.email : this.chance(0.9) ? this.email(m.id) : null;
        counts.email_changes++;
      } else {
        m.phone = this.chance(0.2) && other.phone ? other.phone : this.chance(0.8) ? this.phone() : null;
        counts.phone_changes++;
      }
      if (other !== m && (m.email === other.email || m.phone === other.phone)) counts.shared++;
    }
    for (let i = 0; i < n; i++, counts.consent_changes++) {
      const m = this.pick(this.members);
      m.consent = !m.consent;
    }
    return counts;
  }

  csv(): string {
    const field = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
    return ['customer_id,email,phone,ads_consent', ...this.members.map((m) => `${m.id},${field(m.email)},${field(m.phone)},${m.consent}`)].join('\n') + '\n';
  }
}

async function writeProject(dir: string, metaUrl: string): Promise<void> {
  await mkdir(join(dir, 'models'), { recursive: true });
  await mkdir(join(dir, 'destinations'), { recursive: true });
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: soak
target: local
targets:
  local:
    warehouse: { type: duckdb, path: state.duckdb }
state_schema: audsync
defaults:
  max_attempts: 5
  guardrails: { max_remove_percent: 100, min_members: 0 }
`,
  );
  await writeFile(
    join(dir, 'models', 'members.yml'),
    `name: members
sql: |
  SELECT customer_id, email, phone, ads_consent
  FROM read_csv('data/members.csv', header = true,
    columns = {'customer_id': 'VARCHAR', 'email': 'VARCHAR', 'phone': 'VARCHAR', 'ads_consent': 'BOOLEAN'})
key: customer_id
identifiers: { email: email, phone: phone }
consent: ads_consent
syncs:
  - destination: meta
    audience: { name: "${AUDIENCE}" }
`,
  );
  await writeDestination(dir, metaUrl);
}

/** The Meta destination, pointed at the sandbox; a client timeout shorter than the sandbox's hold. */
async function writeDestination(dir: string, metaUrl: string): Promise<void> {
  await writeFile(
    join(dir, 'destinations', 'meta.yml'),
    `name: meta
type: meta_custom_audiences
ad_account_id: act_4242
access_token: \${${TOKEN_ENV}}
api_base_url: ${metaUrl}
timeout_ms: 1000
limits: { batch_size: 10, concurrency: 2 }
`,
  );
}

async function readState<T>(dir: string, sql: string): Promise<T[]> {
  return queryDuckDbFile<T>(join(dir, 'state.duckdb'), sql);
}

/** Counts new request-log entries (the log keeps the last 1,000, so entries are tracked by identity). */
class RequestCounter {
  private seen = new WeakSet<MetaRequestLogEntry>();
  requests = 0;
  faults: Record<string, number> = {};
  take(sandbox: Sandbox): MetaRequestLogEntry[] {
    const fresh = sandbox.meta.requests.filter((r) => !this.seen.has(r));
    for (const r of fresh) {
      this.seen.add(r);
      if (r.op !== 'add' && r.op !== 'remove' && r.op !== 'replace') continue;
      this.requests++;
      if (r.fault) this.faults[r.fault] = (this.faults[r.fault] ?? 0) + 1;
    }
    return fresh;
  }
}

class SoakFailure extends Error {}
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SoakFailure(`soak check failed: ${message}`);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const random = mulberry32(options.seed);
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'audsync-soak-'));
  const stateFile = join(dir, 'sandbox.json');
  const rates = options.faultRate;
  // About a third 5xx, a quarter throttling, the rest resets and timeouts.
  const faults = `error=${(rates * 0.35).toFixed(4)},throttle=${(rates * 0.25).toFixed(4)},reset=${(rates * 0.2).toFixed(4)},timeout=${(rates * 0.2).toFixed(4)},timeout_ms=4000,latency=2,seed=${options.seed}`;
  let sandbox = await startSandbox({ stateFile, env: { [FAULTS_ENV]: faults } });
  const counter = new RequestCounter();
  const env: NodeJS.ProcessEnv = { ...process.env, [TOKEN_ENV]: SANDBOX_TOKEN };
  delete env[FAULTS_ENV];
  const report: SoakReport = {
    rounds: 0,
    seconds: 0,
    requests: 0,
    faultsInjected: 0,
    faultsByKind: {},
    kills: 0,
    killsByPhase: {},
    exitCodes: {},
    finalAudience: { emails: 0, phones: 0, members: 0 },
    runsRecorded: 0,
    interruptedRuns: 0,
    recoveries: 0,
    failedRuns: 0,
    retriesRecorded: 0,
    failedDeliveries: 0,
    dir,
  };
  const population = new Population(random);
  const invocations: { code: number; doc: { invocation_id: string; status: string; syncs: { status: string; error: string | null }[] } }[] = [];
  const durations: number[] = [];

  try {
    await writeProject(dir, sandbox.urlFor('meta'));
    for (let i = 0; i < options.members; i++) population.add();
    log(`soak: ${options.rounds} rounds (at most ${options.maxSeconds} s), seed ${options.seed}, faults ${faults}, project ${dir}`);

    for (let round = 1; round <= options.rounds; round++) {
      if ((Date.now() - started) / 1000 > options.maxSeconds) {
        log(`soak: time is up after ${round - 1} rounds`);
        break;
      }
      const churn = round === 1 ? { adds: options.members } : population.churn();
      // Kill: at a random moment (startup, materialization, delivery or commit), or, for listed
      // rounds, as soon as the run has sent its first bulk request (so they have one to send).
      const listed = options.killRounds?.includes(round) ?? false;
      if (listed) population.addFresh();
      await writeFile(join(dir, 'data', 'members.csv'), population.csv());

      const timed = !listed && random() < options.killRate;
      const median = durations.length > 0 ? [...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)]! : 3000;
      const killAfter = Math.round(200 + random() * median * 1.1);
      counter.take(sandbox);
      // A listed round's first bulk request gets no answer (the client gives up after 1 s), so the
      // kill surely lands while the run is delivering.
      if (listed) sandbox.meta.failNext(1, 'timeout');
      const t0 = Date.now();
      const run = spawnCli(dir, env, ['run', '--json']);
      let killed: string | undefined;
      const kill = (phase: string) => {
        if (killed || run.child.exitCode !== null || run.child.signalCode !== null) return;
        killed = phase;
        run.child.kill('SIGKILL');
      };
      let timer: NodeJS.Timeout | undefined;
      let watch: NodeJS.Timeout | undefined;
      let bulkSeen = false;
      const requestsBefore = sandbox.meta.requests.at(-1);
      const sawBulk = () => {
        const log = sandbox.meta.requests;
        const from = requestsBefore ? log.lastIndexOf(requestsBefore) + 1 : 0;
        return log.slice(from).some((r) => r.op === 'add' || r.op === 'remove' || r.op === 'replace');
      };
      // Half the timed kills land anywhere in the run (mostly startup and materialization, which
      // take most of a short run), half at a random moment after the first bulk request.
      const afterFirstRequest = timed && random() < 0.5;
      const lateDelay = Math.round(random() * 1500); // drawn now, so a seed replays the same choices
      const phase = () => (sawBulk() ? 'delivery or commit' : 'before delivery');
      if (timed && !afterFirstRequest) timer = setTimeout(() => kill(phase()), killAfter);
      watch = setInterval(() => {
        if (!bulkSeen && sawBulk()) {
          bulkSeen = true;
          if (listed) kill('delivery');
          if (afterFirstRequest) timer = setTimeout(() => kill(phase()), lateDelay);
        }
      }, 5);
      const result: CliResult = await run.done;
      clearTimeout(timer);
      clearInterval(watch);
      const fresh = counter.take(sandbox);
      const roundFaults = fresh.filter((r) => r.fault && (r.op === 'add' || r.op === 'remove' || r.op === 'replace')).length;

      let outcome: string;
      if (result.signal === 'SIGKILL' && killed) {
        report.kills++;
        report.killsByPhase[killed] = (report.killsByPhase[killed] ?? 0) + 1;
        outcome = `killed (${killed}, after ${Date.now() - t0} ms)`;
      } else {
        durations.push(Date.now() - t0);
        const code = String(result.code);
        report.exitCodes[code] = (report.exitCodes[code] ?? 0) + 1;
        check(result.code === 0 || result.code === 1 || result.code === 3, `round ${round}: unexpected exit ${result.code}\n${result.stderr.slice(-2000)}`);
        check(!/^\s+at /m.test(result.stderr), `round ${round}: a stack trace on stderr`);
        const doc = JSON.parse(result.stdout) as (typeof invocations)[number]['doc'] & { error?: { message: string } };
        check(Array.isArray(doc.syncs), `round ${round}: the run failed before any sync ran (nothing in the audit tables): ${doc.error?.message}`);
        invocations.push({ code: result.code!, doc });
        outcome = `exit ${result.code} ${doc.syncs.map((s) => s.status + (s.error ? `: ${s.error.slice(0, 100)}` : '')).join(', ')}`;
      }
      report.rounds = round;
      const bulk = fresh.filter((r) => r.op === 'add' || r.op === 'remove' || r.op === 'replace');
      const replaced = bulk.some((r) => r.op === 'replace') ? ' (a full refresh: recovering from a kill)' : '';
      log(`round ${String(round).padStart(3)}: ${JSON.stringify(churn)}; ${bulk.length} bulk requests${replaced}, ${roundFaults} faults; ${outcome}`);
    }

    // Calm: the same simulator state, no faults, no kills.
    await sandbox.close();
    sandbox = await startSandbox({ stateFile, faults: {} });
    await writeDestination(dir, sandbox.urlFor('meta'));
    const calm = await spawnCli(dir, env, ['run', '--json']).done;
    check(calm.code === 0, `the calm run exited ${calm.code}: ${calm.stdout.slice(0, 1000)} ${calm.stderr.slice(-2000)}`);
    const calmDoc = JSON.parse(calm.stdout) as (typeof invocations)[number]['doc'];
    invocations.push({ code: 0, doc: calmDoc });
    check(calmDoc.syncs[0]!.status === 'success', `the calm run's sync is ${calmDoc.syncs[0]!.status}`);
    const writesBefore = sandbox.meta.requests.filter((r) => r.op === 'add' || r.op === 'remove').length;
    const idle = await spawnCli(dir, env, ['run', '--json']).done;
    check(idle.code === 0, `the second calm run exited ${idle.code}`);
    invocations.push({ code: 0, doc: JSON.parse(idle.stdout) });
    check(sandbox.meta.requests.filter((r) => r.op === 'add' || r.op === 'remove').length === writesBefore, 'the second calm run sent something');
    counter.take(sandbox);

    // The audience equals the segment exactly; one audience.
    const audiences = sandbox.meta.audiences();
    check(audiences.length === 1, `expected exactly one audience, found ${audiences.length}: ${audiences.map((a) => a.name).join(', ')}`);
    const audience = audiences[0]!;
    check(audience.name === AUDIENCE, `the audience is named '${audience.name}'`);
    const want = expected(population.members);
    const emails = sandbox.meta.members(audience.id, 'EMAIL');
    const phones = sandbox.meta.members(audience.id, 'PHONE');
    const diff = (have: string[], wanted: string[]) => ({
      missing: wanted.filter((h) => !have.includes(h)).length,
      extra: have.filter((h) => !wanted.includes(h)).length,
    });
    check(JSON.stringify(emails) === JSON.stringify(want.emails), `EMAIL differs from the segment: ${JSON.stringify(diff(emails, want.emails))}`);
    check(JSON.stringify(phones) === JSON.stringify(want.phones), `PHONE differs from the segment: ${JSON.stringify(diff(phones, want.phones))}`);
    report.finalAudience = { emails: emails.length, phones: phones.length, members: want.eligible.length };

    // The snapshot says the same, and every failure is in the audit tables.
    const snapshot = await readState<{ member_key: string }>(dir, `SELECT member_key FROM audsync.audsync_snapshots ORDER BY 1`);
    check(JSON.stringify(snapshot.map((r) => r.member_key)) === JSON.stringify(want.eligible.map((m) => m.id).sort()), 'the snapshot differs from the eligible members');
    const runs = await readState<{ invocation_id: string; status: string; error_message: string | null; finished_at: Date | null; full_refresh: boolean }>(
      dir,
      `SELECT invocation_id, status, error_message, finished_at, full_refresh FROM audsync.audsync_runs`,
    );
    report.recoveries = runs.filter((r) => r.full_refresh).length;
    report.runsRecorded = runs.length;
    check(runs.every((r) => r.status !== 'running' && r.finished_at !== null), 'a run is still marked running after the calm run');
    report.interruptedRuns = runs.filter((r) => r.error_message?.startsWith('interrupted:')).length;
    check(report.interruptedRuns <= report.kills, `${report.interruptedRuns} interrupted runs but only ${report.kills} kills`);
    report.failedRuns = runs.filter((r) => r.status === 'failed').length;
    check(runs.every((r) => r.status === 'success' || r.error_message), 'a run that did not succeed has no error_message');
    for (const { code, doc } of invocations) {
      const row = runs.find((r) => r.invocation_id === doc.invocation_id);
      check(row, `invocation ${doc.invocation_id} (exit ${code}) left no audsync_runs row`);
      check(row.status === doc.syncs[0]!.status, `invocation ${doc.invocation_id}: --json says ${doc.syncs[0]!.status}, audsync_runs says ${row.status}`);
      if (code !== 0) check(row.error_message, `invocation ${doc.invocation_id} exited ${code} and audsync_runs has no error_message`);
    }
    const failedChanges = await readState<{ n: number }>(dir, `SELECT count(*) AS n FROM audsync.audsync_changes WHERE status IN ('failed', 'dead') AND error_code IS NULL`);
    check(failedChanges[0]!.n === 0, 'a failed change has no error_code');
    const [deliveries] = await readState<{ retries: number; failed: number }>(
      dir,
      `SELECT coalesce(sum(CASE WHEN status = 'sent' THEN attempts - 1 ELSE attempts END), 0) AS retries, count(*) FILTER (WHERE status = 'failed') AS failed FROM audsync.audsync_deliveries`,
    );
    report.retriesRecorded = Number(deliveries!.retries);
    report.failedDeliveries = Number(deliveries!.failed);
    report.requests = counter.requests;
    report.faultsByKind = counter.faults;
    report.faultsInjected = Object.values(counter.faults).reduce((a, b) => a + b, 0);
    // Every fault in a run that was not killed made a request fail, and that shows as an attempt.
    check(report.retriesRecorded <= report.faultsInjected, `${report.retriesRecorded} failed attempts recorded but only ${report.faultsInjected} faults injected`);
    check(report.faultsInjected === 0 || report.retriesRecorded > 0, 'faults were injected but no failed attempt was recorded');
    report.seconds = Math.round((Date.now() - started) / 100) / 10;
    return report;
  } finally {
    await sandbox.close();
    if (!options.keep) await rm(dir, { recursive: true, force: true });
  }
}

export function formatReport(r: SoakReport): string {
  const share = r.requests > 0 ? ((100 * r.faultsInjected) / r.requests).toFixed(1) : '0';
  return [
    `rounds:               ${r.rounds}`,
    `bulk requests:        ${r.requests}`,
    `faults injected:      ${r.faultsInjected} (${share}% of bulk requests: ${Object.entries(r.faultsByKind).map(([k, v]) => `${k} ${v}`).join(', ')})`,
    `kills (SIGKILL):      ${r.kills} (${Object.entries(r.killsByPhase).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`,
    `exit codes:           ${Object.entries(r.exitCodes).map(([k, v]) => `${k}: ${v}`).join(', ')} (killed runs not counted)`,
    `final audience:       ${r.finalAudience.emails} email hashes, ${r.finalAudience.phones} phone hashes, ${r.finalAudience.members} eligible members (equal to the segment)`,
    `audit:                ${r.runsRecorded} runs recorded, ${r.interruptedRuns} closed as interrupted, ${r.failedRuns} failed, ${r.recoveries} full refreshes after a kill; ${r.retriesRecorded} failed request attempts and ${r.failedDeliveries} failed deliveries in audsync_deliveries`,
    `time:                 ${r.seconds} s`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '60' },
      seconds: { type: 'string', default: '900' },
      seed: { type: 'string', default: String(Date.now() % 100_000) },
      faults: { type: 'string', default: '0.3' },
      kills: { type: 'string', default: '0.35' },
      members: { type: 'string', default: '300' },
      keep: { type: 'boolean', default: false },
    },
  });
  const report = await runSoak({
    rounds: Number(values.rounds),
    maxSeconds: Number(values.seconds),
    seed: Number(values.seed),
    faultRate: Number(values.faults),
    killRate: Number(values.kills),
    members: Number(values.members),
    keep: values.keep,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\nsoak converged\n${formatReport(report)}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
