// Retry-After (RFC 9110 §10.2.3), the delay any HTTP server or proxy in front of a platform may
// announce with a 429 or a 503: whole seconds, or an HTTP date. Every platform's classifier reads
// it beside the platform's own signal and waits for the longer of the two.

/** The announced delay in milliseconds, or undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date in the IMF-fixdate form senders must use; Date.parse alone reads '-3' as a year.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The longer of two delays, either of which may be unknown. */
export function longerDelay(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
