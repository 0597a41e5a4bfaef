// Exponential backoff with full jitter, never shorter than what the platform asked for.
export interface RetryPolicy {
  maxAttempts: number; // per request, the first try included
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retries one sync may spend in a run, all requests together: a platform failing everything stops the sync. */
  budget: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 60_000, budget: 200 };

export function backoffMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.maxDelayMs * 5));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
