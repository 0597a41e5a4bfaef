// Fault injection shared by every simulator. Random faults come from a seeded PRNG so a failing run
// can be repeated; queued faults (failNext) make a test's failure path exact. What a fault looks
// like on the wire (the throttle body, the header carrying the delay) is each simulator's business.

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
