// Business-use-case rate limiting per ad account, and the X-Business-Use-Case-Usage header Meta
// sends with it. Meta sends no Retry-After; the delay is estimated_time_to_regain_access, in minutes.

export interface RateLimitOptions {
  requestsPerSecond: number;
  /** Once over the limit, the account stays blocked this long (Meta blocks for minutes). Default: only the window. */
  blockMs?: number;
}

export interface Usage {
  /** Percent of the allowance used; 100 when throttled. */
  callCount: number;
  /** How long until calls are accepted again. */
  regainMs: number;
}

const WINDOW_MS = 1000;

export class AccountRateLimiter {
  private readonly calls = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly options: RateLimitOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (options && !(options.requestsPerSecond > 0)) throw new Error('rateLimit.requestsPerSecond must be positive');
  }

  /** Counts one call for the account unless it is over the limit; refused calls do not count. */
  take(adAccountId: string): { allowed: boolean; usage: Usage } {
    const now = this.now();
    const calls = (this.calls.get(adAccountId) ?? []).filter((t) => t > now - WINDOW_MS);
    this.calls.set(adAccountId, calls);
    const limit = this.options?.requestsPerSecond ?? Infinity;
    const blockedUntil = this.blockedUntil.get(adAccountId) ?? 0;
    if (blockedUntil > now) return { allowed: false, usage: { callCount: 100, regainMs: blockedUntil - now } };
    if (calls.length >= limit) {
      const blockMs = this.options?.blockMs ?? 0;
      if (blockMs > 0) this.blockedUntil.set(adAccountId, now + blockMs);
      return { allowed: false, usage: { callCount: 100, regainMs: Math.max(blockMs, calls[0]! + WINDOW_MS - now) } };
    }
    calls.push(now);
    const callCount = Number.isFinite(limit) ? Math.min(99, Math.round((100 * calls.length) / limit)) : Math.min(99, calls.length);
    return { allowed: true, usage: { callCount, regainMs: 0 } };
  }

  reset(): void {
    this.calls.clear();
    this.blockedUntil.clear();
  }
}

export function usageHeader(adAccountId: string, usage: Usage): Record<string, string> {
  const entry = {
    type: 'CUSTOM_AUDIENCE',
    call_count: usage.callCount,
    total_cputime: Math.round(usage.callCount / 2),
    total_time: Math.round(usage.callCount / 2),
    estimated_time_to_regain_access: Math.floor(usage.regainMs / 60_000),
  };
  return { 'x-business-use-case-usage': JSON.stringify({ [adAccountId.replace(/^act_/, '')]: [entry] }) };
}
