// Fault injection shared by every simulator. Random faults come from a seeded PRNG so a failing run
// can be repeated; queued faults (failNext) make a test's failure path exact. What a fault looks
// like on the wire (the throttle body, the header carrying the delay) is each simulator's business.
import { UsageError } from '../core/errors.js';

export type FaultKind = 'error' | 'throttle' | 'reset' | 'timeout' | 'invalid_token' | 'invalid_payload';

export interface FaultOptions {
  seed?: number;
  /** Share of requests answered with the platform's "service unavailable" (Meta: HTTP 500, code 2). */
  errorRate?: number;
  /** Share answered with the platform's throttle answer. */
  throttleRate?: number;
  /** Share whose socket is destroyed without an answer. */
  resetRate?: number;
  /** Share held without an answer for timeoutMs, then dropped. */
  timeoutRate?: number;
  timeoutMs?: number;
  /** Added before every answer of a faultable endpoint. */
  latencyMs?: number;
}

export interface Fault {
  kind: FaultKind;
  /** For 'throttle': the delay the platform announces (Meta rounds it down to whole minutes). */
  retryAfterMs?: number;
  /** Only requests of this kind (e.g. 'add', 'remove') take the fault; others pass. */
  op?: string;
  /** Let this many matching requests pass first (fail the third batch, not the first). */
  skip?: number;
}

const RATE_KINDS = [
  ['errorRate', 'error'],
  ['throttleRate', 'throttle'],
  ['resetRate', 'reset'],
  ['timeoutRate', 'timeout'],
] as const;

export class FaultInjector {
  private queue: (Fault & { remaining: number })[] = [];
  private random: () => number;

  constructor(private readonly options: FaultOptions = {}) {
    let total = 0;
    for (const [field] of RATE_KINDS) {
      const rate = options[field] ?? 0;
      if (!(rate >= 0 && rate <= 1)) throw new Error(`faults.${field} must be between 0 and 1`);
      total += rate;
    }
    if (total > 1) throw new Error('fault rates must add up to at most 1');
    this.random = mulberry32(options.seed ?? 1);
  }

  get latencyMs(): number {
    return this.options.latencyMs ?? 0;
  }

  get timeoutMs(): number {
    return this.options.timeoutMs ?? 60_000;
  }

  /** After `extra.skip` matching requests pass, the next `count` fail this way, before any random fault. */
  failNext(count: number, kind: FaultKind, extra: Omit<Fault, 'kind'> = {}): void {
    if (count > 0) this.queue.push({ kind, ...extra, remaining: count });
  }

  /** The fault for one request, if any. One PRNG draw per call, so the sequence depends only on the seed. */
  next(op?: string): Fault | undefined {
    const index = this.queue.findIndex((f) => f.op === undefined || f.op === op);
    const queued = index >= 0 ? this.queue[index]! : undefined;
    if (queued && (queued.skip ?? 0) > 0) {
      queued.skip!--;
    } else if (queued) {
      if (--queued.remaining === 0) this.queue.splice(index, 1);
      return { kind: queued.kind, retryAfterMs: queued.retryAfterMs };
    }
    const draw = this.random();
    let edge = 0;
    for (const [field, kind] of RATE_KINDS) {
      edge += this.options[field] ?? 0;
      if (draw < edge) return { kind };
    }
    return undefined;
  }

  /**
   * Only a queued fault aimed at exactly this op, with no random draw: for calls a sync makes once
   * (Google's job create and run, token exchanges), which random faults leave alone.
   */
  nextQueued(op: string): Fault | undefined {
    const index = this.queue.findIndex((f) => f.op === op);
    const queued = index >= 0 ? this.queue[index]! : undefined;
    if (!queued) return undefined;
    if ((queued.skip ?? 0) > 0) {
      queued.skip!--;
      return undefined;
    }
    if (--queued.remaining === 0) this.queue.splice(index, 1);
    return { kind: queued.kind, retryAfterMs: queued.retryAfterMs };
  }

  reset(): void {
    this.queue = [];
    this.random = mulberry32(this.options.seed ?? 1);
  }
}

/** A small, well-known 32-bit PRNG; quality is plenty for picking faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A timer that never keeps the process alive: a closing sandbox must not wait for injected latency. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The environment variable `startSandbox` (so `audsync sandbox` and `sandbox: true` targets) reads faults from. */
export const FAULTS_ENV = 'AUDSYNC_SANDBOX_FAULTS';

/** Short names of the env form, and the FaultOptions field each sets. */
const ENV_KEYS: Record<string, keyof FaultOptions> = {
  error: 'errorRate',
  throttle: 'throttleRate',
  reset: 'resetRate',
  timeout: 'timeoutRate',
  timeout_ms: 'timeoutMs',
  latency: 'latencyMs',
  seed: 'seed',
};
const OPTION_KEYS = new Set<string>(Object.values(ENV_KEYS));

/**
 * FaultOptions from AUDSYNC_SANDBOX_FAULTS: `error=0.1,throttle=0.1,reset=0.05,timeout=0.05,latency=20,seed=7`
 * (timeout_ms sets how long a 'timeout' holds the request), or the same as JSON with FaultOptions'
 * own names: `{"errorRate": 0.1, "latencyMs": 20}`. Undefined when unset or empty. A value that
 * cannot be read throws, naming the variable and the key: a soak must not run without its faults.
 */
export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultOptions | undefined {
  const text = env[FAULTS_ENV]?.trim();
  if (!text) return undefined;
  const fail = (why: string): never => {
    throw new UsageError(`${FAULTS_ENV}: ${why}`, {
      hint: `set it like ${FAULTS_ENV}='error=0.1,throttle=0.1,reset=0.05,timeout=0.05,latency=20,seed=7' (keys: ${Object.keys(ENV_KEYS).join(', ')}), or as JSON with the same keys, or unset it`,
    });
  };
  const options: Record<string, number> = {};
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return fail('not valid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('the JSON must be an object');
    for (const [key, value] of Object.entries(parsed)) {
      const field = OPTION_KEYS.has(key) ? key : ENV_KEYS[key];
      if (!field) return fail(`unknown key '${key}'`);
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`'${key}' must be a number`);
      options[field] = value;
    }
  } else {
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [key, raw, extra] = pair.split('=').map((p) => p.trim());
      if (key === undefined || raw === undefined || extra !== undefined) return fail(`'${pair}' is not key=value`);
      const field = ENV_KEYS[key] ?? (OPTION_KEYS.has(key) ? (key as keyof FaultOptions) : undefined);
      if (!field) return fail(`unknown key '${key}'`);
      const value = Number(raw);
      if (raw === '' || !Number.isFinite(value)) return fail(`'${key}' must be a number, not '${raw}'`);
      options[field] = value;
    }
  }
  for (const key of ['latencyMs', 'timeoutMs'] as const) {
    if (options[key] !== undefined && !(options[key]! >= 0)) fail(`${key === 'latencyMs' ? 'latency' : 'timeout_ms'} must be 0 or more milliseconds`);
  }
  const faults = options as FaultOptions;
  try {
    new FaultInjector(faults); // checks the rates: each between 0 and 1, together at most 1
  } catch (error) {
    fail((error as Error).message.replace(/^faults\./, ''));
  }
  return faults;
}
