// A throwaway audsync project (DuckDB, the model reading a CSV the test rewrites) with destinations
// for every platform pointed at one loopback sandbox, run in-process through the real runner; plus
// what the conformance suite needs per platform (reading an audience, counting write requests,
// queueing faults, planting a stray) and a small reference normalization to compute what each
// platform's audience must hold. Independent of test/support/project.ts on purpose.
import { queryDuckDbFile } from '../support/duckdb.js';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { loadProject } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { InvocationResult } from '../../src/core/result.js';
import type { RunOptions } from '../../src/runner/context.js';
import { runInvocation } from '../../src/runner/invocation.js';
import type { FaultKind } from '../../src/sandbox/faults.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import type { SimReply, SimRequest } from '../../src/sandbox/simulator.js';
import { SANDBOX_TOKEN } from '../../src/sandbox/token.js';

// ---- members and the reference normalization -----------------------------------------------------

export interface Member {
  customer_id: string;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  zip?: string | null;
  country?: string | null;
  ads_consent: boolean;
}

const COLUMNS = ['customer_id', 'email', 'phone', 'first_name', 'last_name', 'zip', 'country'] as const;

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const emailBase = (raw: string) => raw.replace(/\s+/g, '').replace(/^\.+/, '').replace(/\.+$/, '').toLowerCase();
const validEmail = (v: string) => (/^[^@]+@[^@]+\.[^@]+$/.test(v) ? v : null);

/** Meta EMAIL (rule `email`): whitespace out, dots trimmed at the ends, lowercased. */
export function emailMeta(raw: string | null | undefined): string | null {
  return raw ? validEmail(emailBase(raw)) : null;
}

/** Google (rule `email_google`): `email`, then for gmail.com / googlemail.com dots and +suffix out of the local part. */
export function emailGoogle(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const v = emailBase(raw);
  const [local, domain, ...rest] = v.split('@');
  if (rest.length === 0 && domain !== undefined && (domain === 'gmail.com' || domain === 'googlemail.com')) {
    return validEmail(`${local!.split('+')[0]!.replace(/\./g, '')}@${domain}`);
  }
  return validEmail(v);
}

/** ISO-2 from letters only, first two, upper case; UK read as GB; unknown regions invalid. */
export function region(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let r = raw.replace(/[^a-zA-Z]/g, '').slice(0, 2).toUpperCase();
  if (r === 'UK') r = 'GB';
  return KNOWN_REGIONS.has(r) ? r : null;
}
const KNOWN_REGIONS = new Set(['US', 'GB', 'DE', 'FR', 'CA', 'IT', 'ES', 'NL', 'AU', 'IE', 'BR', 'MX', 'JP', 'IN']);

/** E.164 with '+', read in the row's region (its valid country, else the default US), by libphonenumber. */
export function phoneE164(raw: string | null | undefined, country: string | null | undefined, defaultCountry = 'US'): string | null {
  if (!raw) return null;
  const parsed = parsePhoneNumberFromString(raw, (region(country) ?? defaultCountry) as CountryCode);
  return parsed && parsed.isPossible() ? parsed.number : null;
}

/** Google givenName / familyName: punctuation out, inner whitespace single, trimmed, lowercased. */
export function nameGoogle(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const v = raw
    .replace(/[!-/:-@[-`{-~]+/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  return v === '' ? null : v;
}

/** Google postalCode (plain): trimmed, single spaces, upper case; US: 5 digits (ZIP+4 cut, lost zeros restored). */
export function postalCode(raw: string | null | undefined, country: string | null | undefined): string | null {
  if (!raw) return null;
  const v = raw.replace(/\s+/g, ' ').trim().toUpperCase();
  if ((region(country) ?? 'US') !== 'US') return v === '' ? null : v;
  if (/^[0-9]{5}(-?[0-9]{4})?$/.test(v)) return v.slice(0, 5);
  if (/^[0-9]{3,4}$/.test(v)) return v.padStart(5, '0');
  return null;
}

/** Meta FN / LN (rule `name`): letters only (whitespace, digits, punctuation out), lowercased. */
export function nameMeta(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const v = raw.replace(/[\s0-9!-/:-@[-`{-~]+/g, '').toLowerCase();
  return v === '' ? null : v;
}

/** Meta ZIP (rule `zip`): whitespace out, lowercased; US: 5 digits (ZIP+4 cut, lost zeros restored). */
export function zipMeta(raw: string | null | undefined, country: string | null | undefined): string | null {
  if (!raw) return null;
  const v = raw.replace(/\s+/g, '').toLowerCase();
  if ((region(country) ?? 'US') !== 'US') return v === '' ? null : v;
  if (/^[0-9]{5}(-?[0-9]{4})?$/.test(v)) return v.slice(0, 5);
  if (/^[0-9]{3,4}$/.test(v)) return v.padStart(5, '0');
  return null;
}

/**
 * Meta's attribute keys (FN, LN, ZIP, COUNTRY) after adds only: the hashes of every sent member's
 * values. (Removals take a leaver's attribute values out of the simulator's per-key sets even when
 * others share them, so only adds can be compared this way.)
 */
export function expectedMetaAttributes(rows: Member[]): { FN: string[]; LN: string[]; ZIP: string[]; COUNTRY: string[] } {
  const sent = eligible(rows).filter((r) => emailMeta(r.email) !== null || phoneE164(r.phone, r.country) !== null);
  const hashed = (values: (string | null)[]) => sorted(values.map((v) => v && sha256(v)));
  return {
    FN: hashed(sent.map((r) => nameMeta(r.first_name))),
    LN: hashed(sent.map((r) => nameMeta(r.last_name))),
    ZIP: hashed(sent.map((r) => zipMeta(r.zip, r.country))),
    COUNTRY: hashed(sent.map((r) => region(r.country)?.toLowerCase() ?? null)),
  };
}

const sorted = (values: Iterable<string | null>) => [...new Set([...values].filter((v): v is string => v !== null))].sort();
const eligible = (rows: Member[]) => rows.filter((r) => r.ads_consent);

/** What a Meta audience must hold per match key: EMAIL and PHONE (E.164 digits without '+'). */
export function expectedMeta(rows: Member[]): { EMAIL: string[]; PHONE: string[] } {
  const members = eligible(rows);
  return {
    EMAIL: sorted(members.map((r) => emailMeta(r.email)).map((v) => v && sha256(v))),
    PHONE: sorted(members.map((r) => phoneE164(r.phone, r.country)).map((v) => v && sha256(v.slice(1)))),
  };
}

/** What a Google user list must hold: email, phone (E.164 with '+'), and complete addresses. */
export function expectedGoogle(rows: Member[]): { email: string[]; phone: string[]; address: string[] } {
  const members = eligible(rows);
  const address = (r: Member) => {
    const [given, family, reg, postal] = [nameGoogle(r.first_name), nameGoogle(r.last_name), region(r.country), postalCode(r.zip, r.country)];
    // An address rides along with a member that has a match key (email or phone).
    const matchable = emailGoogle(r.email) !== null || phoneE164(r.phone, r.country) !== null;
    return given && family && reg && postal && matchable ? `${sha256(given)}|${sha256(family)}|${reg}|${postal}` : null;
  };
  return {
    email: sorted(members.map((r) => emailGoogle(r.email)).map((v) => v && sha256(v))),
    phone: sorted(members.map((r) => phoneE164(r.phone, r.country)).map((v) => v && sha256(v))),
    address: sorted(members.map(address)),
  };
}

// ---- request taps: every answer a simulator gave, with its arrival time -------------------------

export interface Tapped {
  at: number;
  ms: number;
  method: string;
  path: string;
  /** 0: the socket was reset or held without an answer. */
  status: number;
}

/** Wraps a simulator's handle() so every request is recorded (the simulators' own logs keep 1,000). */
export function tap(simulator: { handle(request: SimRequest): Promise<SimReply> }): Tapped[] {
  const log: Tapped[] = [];
  const original = simulator.handle.bind(simulator);
  simulator.handle = async (request: SimRequest) => {
    const at = Date.now();
    const reply = await original(request);
    log.push({ at, ms: Date.now() - at, method: request.method, path: request.path, status: 'drop' in reply ? 0 : reply.status });
    return reply;
  };
  return log;
}

// ---- the project ---------------------------------------------------------------------------------

export type PlatformKind = 'meta' | 'google_dm' | 'google_ads';

export const META_TOKEN_ENV = 'AUDSYNC_CONFORMANCE_META_TOKEN';
export const GOOGLE_TOKEN_ENV = 'AUDSYNC_CONFORMANCE_GOOGLE_TOKEN';
export const GOOGLE_DEV_TOKEN_ENV = 'AUDSYNC_CONFORMANCE_GOOGLE_DEV_TOKEN';
export const GOOGLE_CUSTOMER = '1234567890';

export interface DestinationSpec {
  /** Destination file name and `name:`. */
  name: string;
  platform: PlatformKind;
  /** Meta: audience name; Google: the numeric user list id. */
  audience: string;
  /** YAML flow mapping for `limits:`, e.g. "{ batch_size: 2, concurrency: 1 }". */
  limits?: string;
  /** Google: send_addresses (default true here, so the suite checks addresses; the product's default is false). */
  sendAddresses?: boolean;
}

export interface ProjectOptions {
  destinations: DestinationSpec[];
  sandbox?: SandboxOptions;
  /** YAML flow mapping of the model's identifiers. */
  identifiers?: string;
  /** Extra lines under `defaults:` (indented 2). */
  defaults?: string;
}

export interface ConformanceProject {
  dir: string;
  sandbox: Sandbox;
  env: NodeJS.ProcessEnv;
  write(rows: Member[]): Promise<void>;
  run(options?: Partial<RunOptions>): Promise<InvocationResult>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  cleanup(): Promise<void>;
}

const ALL_IDENTIFIERS = '{ email: email, phone: phone, first_name: first_name, last_name: last_name, zip: zip, country: country }';

export function destinationYaml(spec: DestinationSpec, sandbox: Sandbox): string {
  const limits = spec.limits ? `limits: ${spec.limits}\n` : '';
  if (spec.platform === 'meta') {
    return `name: ${spec.name}\ntype: meta_custom_audiences\nad_account_id: act_1000\naccess_token: \${${META_TOKEN_ENV}}\napi_base_url: ${sandbox.urlFor('meta')}\n${limits}`;
  }
  const api = spec.platform === 'google_ads' ? `api: google_ads\ndeveloper_token: \${${GOOGLE_DEV_TOKEN_ENV}}\n` : 'api: data_manager\n';
  const addresses = `send_addresses: ${spec.sendAddresses ?? true}\n`;
  return `name: ${spec.name}\ntype: google_customer_match\n${api}customer_id: "${GOOGLE_CUSTOMER}"\naccess_token: \${${GOOGLE_TOKEN_ENV}}\napi_base_url: ${sandbox.urlFor('google')}\ntimeout_ms: 5000\n${addresses}${limits}`;
}

export async function createProject(options: ProjectOptions): Promise<ConformanceProject> {
  const dir = await mkdtemp(join(tmpdir(), 'audsync-conformance-'));
  const sandbox = await startSandbox(options.sandbox ?? {});
  await mkdir(join(dir, 'models'));
  await mkdir(join(dir, 'destinations'));
  await mkdir(join(dir, 'data'));
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: conformance
target: local
targets:
  local:
    warehouse: { type: duckdb, path: state.duckdb }
state_schema: audsync
defaults:
  guardrails: { max_remove_percent: 100, min_members: 0 }
${options.defaults ?? ''}
`,
  );
  const syncs = options.destinations
    .map((d) => `  - destination: ${d.name}\n    audience: ${d.platform === 'meta' ? `{ name: "${d.audience}" }` : `{ id: "${d.audience}" }`}`)
    .join('\n');
  await writeFile(
    join(dir, 'models', 'segment.yml'),
    `name: segment
sql: |
  SELECT * FROM read_csv('data/members.csv', header = true, columns = {
    'customer_id': 'VARCHAR', 'email': 'VARCHAR', 'phone': 'VARCHAR', 'first_name': 'VARCHAR',
    'last_name': 'VARCHAR', 'zip': 'VARCHAR', 'country': 'VARCHAR', 'ads_consent': 'BOOLEAN'})
key: customer_id
identifiers: ${options.identifiers ?? ALL_IDENTIFIERS}
consent: ads_consent
syncs:
${syncs}
`,
  );
  for (const d of options.destinations) await writeFile(join(dir, 'destinations', `${d.name}.yml`), destinationYaml(d, sandbox));
  const env = { ...process.env, [META_TOKEN_ENV]: SANDBOX_TOKEN, [GOOGLE_TOKEN_ENV]: SANDBOX_TOKEN, [GOOGLE_DEV_TOKEN_ENV]: SANDBOX_TOKEN };

  return {
    dir,
    sandbox,
    env,
    async write(rows) {
      const field = (v: string | null | undefined) => (v === null || v === undefined ? '' : `"${v.replace(/"/g, '""')}"`);
      const lines = rows.map((r) => [...COLUMNS.map((c) => field(r[c])), String(r.ads_consent)].join(','));
      await writeFile(join(dir, 'data', 'members.csv'), [[...COLUMNS, 'ads_consent'].join(','), ...lines].join('\n') + '\n');
    },
    async run(runOptions = {}) {
      const manifest = await loadProject(dir, { env });
      return runInvocation(manifest, { command: 'run', logger: silentLogger, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...runOptions });
    },
    query: <T>(sql: string) => queryDuckDbFile<T>(join(dir, 'state.duckdb'), sql),
    async cleanup() {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---- per platform: what the conformance suite asks of a simulator ------------------------------

export interface WriteRequest {
  op: string;
  /** Rows (Meta), members (Data Manager) or operations (Google Ads) in the request. */
  rows: number;
  status: number;
  fault?: string;
}

export interface PlatformDriver {
  kind: PlatformKind;
  label: string;
  /** The audience as the destination names it (Meta: a name; Google: a user list id). */
  audience: string;
  /** The primary match key the audience holds, sorted (Meta EMAIL hashes; Google email hashes). */
  emails(sandbox: Sandbox): string[];
  /** What the primary match key must hold for these rows under this platform's rule. */
  expectedEmails(rows: Member[]): string[];
  /** Every match key the audience holds (Meta EMAIL, PHONE; Google email, phone, address). */
  held(sandbox: Sandbox): Record<string, string[]>;
  /** What every match key must hold for these rows under this platform's rules. */
  expected(rows: Member[]): Record<string, string[]>;
  /**
   * Makes the platform refuse exactly one member's row, as only that platform would: Meta refuses
   * the whole request carrying a poisoned value (the runtime bisects); Google names the member
   * (a postal code that looks hashed). Returns the rows to write; `lift` undoes it.
   */
  refuseOne(sandbox: Sandbox, rows: Member[], key: string): { rows: Member[]; lift(rows: Member[]): Member[] };
  /** Requests that change an audience (lookups, token exchanges and status polls excluded). */
  writes(sandbox: Sandbox): WriteRequest[];
  /** Ops of `writes` that carry rows (not job creation, runs or remove-all). */
  rowOps: string[];
  failNext(sandbox: Sandbox, count: number, kind: FaultKind, extra?: { retryAfterMs?: number; skip?: number }): void;
  /** Puts a hashed email into the audience outside audsync, as someone using the platform's UI or API would. */
  plantStray(sandbox: Sandbox, emailHash: string): Promise<void>;
  /** The platform report kind a first add leaves in audsync_platform_reports. */
  reportKind: string;
  /** Sandbox options that make this platform's async processing finish at once between runs. */
  sandboxOptions?: SandboxOptions;
}

const META_AUDIENCE = 'Conformance';
const GOOGLE_LIST = '7000000042';

function metaAudienceId(sandbox: Sandbox): string | undefined {
  return sandbox.meta.audiences().find((a) => a.name === META_AUDIENCE)?.id;
}

export const metaDriver: PlatformDriver = {
  kind: 'meta',
  label: 'meta',
  audience: META_AUDIENCE,
  emails: (sandbox) => {
    const id = metaAudienceId(sandbox);
    return id ? sandbox.meta.members(id, 'EMAIL') : [];
  },
  expectedEmails: (rows) => expectedMeta(rows).EMAIL,
  held: (sandbox) => {
    const id = metaAudienceId(sandbox);
    return { EMAIL: id ? sandbox.meta.members(id, 'EMAIL') : [], PHONE: id ? sandbox.meta.members(id, 'PHONE') : [] };
  },
  expected: (rows) => expectedMeta(rows),
  refuseOne(sandbox, rows, key) {
    const member = rows.find((r) => r.customer_id === key)!;
    sandbox.meta.poison([sha256(emailMeta(member.email)!)]);
    return {
      rows,
      lift: (current) => {
        sandbox.meta.poison([]);
        return current;
      },
    };
  },
  writes: (sandbox) =>
    sandbox.meta.requests.filter((r) => r.op === 'add' || r.op === 'remove' || r.op === 'replace').map((r) => ({ op: r.op, rows: r.rows, status: r.status, fault: r.fault })),
  rowOps: ['add', 'remove', 'replace'],
  failNext: (sandbox, count, kind, extra) => sandbox.meta.failNext(count, kind, extra),
  async plantStray(sandbox, hash) {
    const response = await fetch(`${sandbox.urlFor('meta')}/v21.0/${metaAudienceId(sandbox)}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: SANDBOX_TOKEN, payload: { schema: ['EMAIL'], is_raw: true, data: [[hash]] } }),
    });
    if (response.status !== 200) throw new Error(`planting a stray in Meta answered ${response.status}`);
  },
  reportKind: 'meta_upload',
};

function googleDriver(kind: 'google_dm' | 'google_ads'): PlatformDriver {
  const ops = kind === 'google_dm' ? ['ingest', 'remove', 'remove_all'] : ['create_job', 'add_operations', 'run_job'];
  return {
    kind,
    label: kind === 'google_dm' ? 'google data_manager' : 'google google_ads',
    audience: GOOGLE_LIST,
    emails: (sandbox) => (sandbox.google.userLists().some((l) => l.id === GOOGLE_LIST) ? sandbox.google.members(GOOGLE_LIST, 'email') : []),
    expectedEmails: (rows) => expectedGoogle(rows).email,
    held: (sandbox) => {
      const has = sandbox.google.userLists().some((l) => l.id === GOOGLE_LIST);
      const of = (type: 'email' | 'phone' | 'address') => (has ? sandbox.google.members(GOOGLE_LIST, type) : []);
      return { email: of('email'), phone: of('phone'), address: of('address') };
    },
    expected: (rows) => expectedGoogle(rows),
    refuseOne(_sandbox, rows, key) {
      // 64 digits: what a hashed postal code looks like; Google wants postal codes in plain text.
      const bad = (r: Member): Member => (r.customer_id === key ? { ...r, first_name: 'Ref', last_name: 'Used', country: 'GB', zip: '1'.repeat(64) } : r);
      return { rows: rows.map(bad), lift: (current) => current.map((r) => (r.customer_id === key ? { ...r, zip: 'SW1A 1AA' } : r)) };
    },
    writes: (sandbox) =>
      sandbox.google.requests.filter((r) => ops.includes(r.op)).map((r) => ({ op: r.op, rows: r.members, status: r.status, fault: r.fault ?? r.reason })),
    rowOps: kind === 'google_dm' ? ['ingest', 'remove'] : ['add_operations'],
    failNext: (sandbox, count, fault, extra) => sandbox.google.failNext(count, fault, extra),
    async plantStray(sandbox, hash) {
      const response = await fetch(`${sandbox.urlFor('google')}/v1/audienceMembers:ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SANDBOX_TOKEN}` },
        body: JSON.stringify({
          destinations: [{ operatingAccount: { accountType: 'GOOGLE_ADS', accountId: GOOGLE_CUSTOMER }, productDestinationId: GOOGLE_LIST }],
          audienceMembers: [{ userData: { userIdentifiers: [{ emailAddress: hash }] } }],
          encoding: 'HEX',
          termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' },
        }),
      });
      if (response.status !== 200) throw new Error(`planting a stray in Google answered ${response.status}: ${await response.text()}`);
    },
    reportKind: kind === 'google_dm' ? 'google_request' : 'google_job',
    // Google Ads runs one job per list at a time; jobs finish at once so consecutive runs do not
    // meet the previous run's job still RUNNING (covered separately).
    sandboxOptions: kind === 'google_ads' ? { google: { processingMs: 0 } } : undefined,
  };
}

export const googleDataManagerDriver = googleDriver('google_dm');
export const googleAdsDriver = googleDriver('google_ads');
export const DRIVERS: PlatformDriver[] = [metaDriver, googleDataManagerDriver, googleAdsDriver];
