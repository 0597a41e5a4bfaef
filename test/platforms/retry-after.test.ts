// Retry-After, which any server or proxy in front of a platform may send with a 429 or a 503: the
// shared reading of it, and both platforms' classifiers waiting for the longer of it and their own signal.
import { describe, expect, it } from 'vitest';
import { RetriableError } from '../../src/core/errors.js';
import { classifyGoogleError } from '../../src/platforms/google/errors.js';
import { longerDelay, retryAfterMs } from '../../src/platforms/http/retry-after.js';
import type { HttpResponse } from '../../src/platforms/http/request.js';
import { classifyGraphError } from '../../src/platforms/meta/errors.js';

const response = (status: number, headers: Record<string, string>, body: unknown): HttpResponse => ({ status, headers: new Headers(headers), body, text: JSON.stringify(body) });

describe('Retry-After', () => {
  it('reads whole seconds and HTTP dates; anything else is no delay', () => {
    const now = Date.parse('2026-11-29T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': ' 7 ' }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sun, 29 Nov 2026 10:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Sun, 29 Nov 2026 09:59:00 GMT' }), now)).toBe(0);
    expect([retryAfterMs(new Headers({ 'retry-after': 'soon' }), now), retryAfterMs(new Headers({ 'retry-after': '-3' }), now), retryAfterMs(new Headers(), now)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect([longerDelay(undefined, 5), longerDelay(5, undefined), longerDelay(5, 9), longerDelay(undefined, undefined)]).toEqual([5, 5, 9, undefined]);
  });

  it('Meta: a 503 from a proxy with Retry-After is retried after that delay; a throttle waits for the longer of it and Meta\'s own', () => {
    const ctx = { adAccountId: 'act_1', secrets: [] };
    const proxy = classifyGraphError(response(503, { 'retry-after': '4' }, undefined), ctx);
    expect(proxy).toBeInstanceOf(RetriableError);
    expect((proxy as RetriableError).details.retryAfterMs).toBe(4000);
    const usage = JSON.stringify({ act_1: [{ type: 'ads_management', call_count: 100, total_cputime: 1, total_time: 1, estimated_time_to_regain_access: 1 }] });
    const throttled = classifyGraphError(
      response(400, { 'retry-after': '120', 'x-business-use-case-usage': usage }, { error: { code: 80003, message: 'too many calls' } }),
      ctx,
    );
    expect((throttled as RetriableError).details.retryAfterMs).toBe(120_000);
  });

  it('Google: Retry-After counts beside RetryInfo, the longer one wins', () => {
    const body = (delay: string) => ({
      error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'quota', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }] },
    });
    const ctx = { customerId: '1234567890', secrets: [] } as never;
    const longerHeader = classifyGoogleError(response(429, { 'retry-after': '9' }, body('2s')), ctx);
    const longerInfo = classifyGoogleError(response(429, { 'retry-after': '1' }, body('3s')), ctx);
    expect([(longerHeader as RetriableError).details.retryAfterMs, (longerInfo as RetriableError).details.retryAfterMs]).toEqual([9000, 3000]);
  });
});
