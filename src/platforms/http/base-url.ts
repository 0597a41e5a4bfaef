// Base URL overrides (api_base_url) point a platform at a simulator or a proxy. Plain http is
// allowed only on loopback, so a typo can never send tokens and hashes over the network unencrypted.
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1 (bracketed or not) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || name === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(name);
  return false;
}

/** The URL without a trailing slash; throws a plain Error saying what is wrong. */
export function checkBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`'${url}' is not a valid URL: use a base URL such as https://graph.facebook.com`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`a base URL must use https, not ${parsed.protocol.replace(/:$/, '')} (${parsed.origin})`);
  }
  if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
    throw new Error(
      `a base URL may use plain http only for a loopback host (127.0.0.1, ::1, localhost), not ${parsed.hostname}: use https://`,
    );
  }
  // Credentials or a query in a base URL would end up in every request and in error messages.
  if (parsed.username || parsed.password) throw new Error(`a base URL must not carry a user name or password (${parsed.origin})`);
  if (parsed.search || parsed.hash) throw new Error(`a base URL must not have a query string or fragment (${parsed.origin})`);
  return `${parsed.origin}${parsed.pathname}`.replace(/\/+$/, '');
}
