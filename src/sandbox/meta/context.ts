// What every Meta route shares: the simulator's state and policies, the request in flight, and the
// caller checks, done in Meta's order (token, proof, ad account, rate limit).
import type { FaultInjector } from '../faults.js';
import type { SimReply, SimRequest } from '../simulator.js';
import { checkAccount, checkCaller, readCredentials, type AuthPolicy } from './auth.js';
import { throttled } from './errors.js';
import type { MetaState } from './state.js';
import type { AccountRateLimiter, Usage } from './throttle.js';

export type MetaOp = 'add' | 'remove' | 'replace' | 'list' | 'create' | 'get' | 'unknown';

export interface MetaRequestLogEntry {
  method: string;
  /** Below the /meta prefix, without the query string (which may hold a token). */
  path: string;
  op: MetaOp;
  rows: number;
  /** 0 when a fault dropped the request without an answer. */
  status: number;
  errorCode?: number;
  fault?: string;
}

export interface MetaEnv {
  state: MetaState;
  policy: AuthPolicy;
  faults: FaultInjector;
  limiter: AccountRateLimiter;
  /** Values that make Meta refuse a whole request (what one malformed row does), for bisection tests. */
  poisoned: Set<string>;
  changed(): void;
  nextSessionId(): string;
}

/** One request in flight. */
export interface Exchange {
  request: SimRequest;
  params: Record<string, unknown>;
  entry: MetaRequestLogEntry;
  /** Set once the ad account is known, so the answer carries X-Business-Use-Case-Usage. */
  account?: string;
  usage?: Usage;
}

/** Call once the ad account is known. */
export function authorize(env: MetaEnv, ex: Exchange, adAccountId: string, audienceId?: string): void {
  authenticate(env, ex);
  checkAccount(env.policy, adAccountId, audienceId);
  ex.account = adAccountId;
  const { allowed, usage } = env.limiter.take(adAccountId);
  ex.usage = usage;
  if (!allowed) throw throttled();
}

export function authenticate(env: MetaEnv, ex: Exchange): void {
  checkCaller(readCredentials(ex.request.query, ex.params, ex.request.headers), env.policy);
}

export function ok(body: unknown): SimReply {
  return { status: 200, body };
}
