// Exponential backoff with full jitter, never shorter than what the platform asked for.
import { RetriableError } from '../../core/errors.js';

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

/**
 * Calls `work` until it succeeds, trying a RetriableError again after a backoff while the policy
 * allows: maxAttempts for this call, and the sync's budget, which `spent` counts across calls.
 * Any other error is thrown as it is; a RetriableError that outlives the policy is thrown with how
 * far it got, keeping its details (code, status) and hint.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  spent: { retries: number },
  work: () => Promise<T>,
  onRetry?: (error: RetriableError, attempt: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof RetriableError)) throw error;
      if (attempt < policy.maxAttempts && spent.retries < policy.budget) {
        spent.retries++;
        const delay = backoffMs(policy, attempt, error.details.retryAfterMs);
        onRetry?.(error, attempt, delay);
        await sleep(delay);
        continue;
      }
      const why = attempt < policy.maxAttempts ? `stopped after spending the retry budget of ${policy.budget} retries` : `gave up after ${attempt} attempts`;
      throw new RetriableError(`${why}: ${error.message}`, error.details, { hint: error.hint, cause: error });
    }
  }
}
