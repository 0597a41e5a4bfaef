// A destination's base URL override may point at a proxy or a local simulator. Plain http is
// accepted only to loopback, where nothing crosses a network that could read hashed identifiers or
// tokens. The platforms check this again when they start; checking here lets `audsync validate`
// report it with the file and line.
import { isLoopbackHost } from '../platforms/http/base-url.js';

/** Why a base URL is refused, or undefined when it is acceptable. Never repeats the URL. */
export function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as https://proxy.example.com';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL (or http:// to a loopback address)';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return 'plain http is allowed only to loopback; use https';
  // Either would be sent with every request and show up in error messages.
  if (url.username || url.password) return 'must not carry a user name or password; credentials belong in the secret fields';
  if (url.search || url.hash) return 'must not have a query string or fragment';
  return undefined;
}
