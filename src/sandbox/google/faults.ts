// What an injected fault looks like on the wire, per API.
import type { Fault } from '../faults.js';
import type { SimReply } from '../simulator.js';
import type { Exchange, GoogleEnv } from './context.js';
import { adsThrottled, dmThrottled, RpcFailure, unauthenticated, unavailable } from './errors.js';

export function injectedFault(env: GoogleEnv, ex: Exchange, fault: Fault, adsVersion?: string): SimReply {
  ex.entry.fault = fault.kind;
  switch (fault.kind) {
    case 'reset':
      return { drop: 'reset' };
    case 'timeout':
      return { drop: 'hold', ms: env.faults.timeoutMs };
    case 'error':
      throw unavailable();
    case 'invalid_token':
      throw unauthenticated('invalid', adsVersion);
    case 'invalid_payload':
      // A refusal that names no member or operation: the client cannot tell which rows are at fault.
      throw new RpcFailure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    case 'throttle':
      throw adsVersion ? adsThrottled(adsVersion, fault.retryAfterMs) : dmThrottled(fault.retryAfterMs);
  }
}

/** The project quota, counted for the bulk calls only. */
export function checkRate(env: GoogleEnv, adsVersion?: string): void {
  const verdict = env.limiter.take();
  if (!verdict.allowed) throw adsVersion ? adsThrottled(adsVersion, verdict.retryAfterMs) : dmThrottled(verdict.retryAfterMs);
}

const RANGES: [number, string][] = [
  [20, 'LESS_THAN_20'],
  [31, '20_TO_30'],
  [41, '31_TO_40'],
  [51, '41_TO_50'],
  [61, '51_TO_60'],
  [71, '61_TO_70'],
  [81, '71_TO_80'],
  [91, '81_TO_90'],
];

/** The range word for a percentage, without the API's prefix (MATCH_RATE_RANGE_ / MATCH_RANGE_). */
export function matchRange(percent: number): string {
  return RANGES.find(([below]) => percent < below)?.[1] ?? '91_TO_100';
}
