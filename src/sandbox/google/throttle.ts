// A project-wide request quota over a sliding window (the Data Manager API allows 300 requests a
// minute per Google Cloud project); over it, 429 RESOURCE_EXHAUSTED with the wait in RetryInfo.

export interface GoogleRateLimit {
  requests: number;
  /** Default 60,000 (a minute). */
  windowMs?: number;
}

export class RateWindow {
  private calls: number[] = [];

  constructor(
    private readonly limit: GoogleRateLimit | undefined,
    private readonly now: () => number,
  ) {
    if (limit && !(limit.requests > 0)) throw new Error('rateLimit.requests must be positive');
  }

  /** Counts one call, or says how long until one is allowed; refused calls do not count. */
  take(): { allowed: true } | { allowed: false; retryAfterMs: number } {
    if (!this.limit) return { allowed: true };
    const windowMs = this.limit.windowMs ?? 60_000;
    const now = this.now();
    this.calls = this.calls.filter((t) => t > now - windowMs);
    if (this.calls.length >= this.limit.requests) return { allowed: false, retryAfterMs: Math.max(1, this.calls[0]! + windowMs - now) };
    this.calls.push(now);
    return { allowed: true };
  }

  reset(): void {
    this.calls = [];
  }
}
