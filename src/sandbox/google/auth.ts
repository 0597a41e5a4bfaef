// Who is calling: a bearer token (a fixed one, or one minted at /oauth2/token that expires), the
// Google Ads developer-token and login-customer-id headers, and which customers the caller may use.
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { adsError, unauthenticated } from './errors.js';

const MAX_MINTED = 10_000;

export class TokenStore {
  private readonly minted = new Map<string, number>(); // token -> expires at
  private counter = 0;

  constructor(
    private readonly fixed: ReadonlySet<string>,
    private lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  /** A new access token; expires_in is whole seconds, as Google's endpoint answers. */
  mint(): { token: string; expiresInS: number } {
    const token = `ya29.sandbox.${++this.counter}.${randomBytes(12).toString('hex')}`;
    this.minted.set(token, this.now() + this.lifetimeMs);
    if (this.minted.size > MAX_MINTED) this.minted.delete(this.minted.keys().next().value!);
    return { token, expiresInS: Math.max(1, Math.round(this.lifetimeMs / 1000)) };
  }

  check(token: string | undefined): 'ok' | 'missing' | 'expired' | 'invalid' {
    if (!token) return 'missing';
    if (this.fixed.has(token)) return 'ok';
    const expiresAt = this.minted.get(token);
    if (expiresAt === undefined) return 'invalid';
    return this.now() < expiresAt ? 'ok' : 'expired';
  }

  /** Every minted token stops working now, as when an hour passes mid-run. */
  expireAll(): void {
    for (const token of this.minted.keys()) this.minted.set(token, 0);
  }

  setLifetime(ms: number): void {
    this.lifetimeMs = ms;
  }

  get mintedCount(): number {
    return this.counter;
  }
}

export function bearer(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
}

export function authenticate(tokens: TokenStore, headers: IncomingHttpHeaders, adsVersion?: string): void {
  const verdict = tokens.check(bearer(headers));
  if (verdict !== 'ok') throw unauthenticated(verdict, adsVersion);
}

export interface AccessPolicy {
  /** Customers the credentials' user reaches directly. Undefined: any. */
  customers?: ReadonlySet<string>;
  /** Manager -> its client customers, reachable with that manager as the login account. */
  managers: ReadonlyMap<string, ReadonlySet<string>>;
}

export function canAccess(policy: AccessPolicy, customerId: string, loginId?: string): boolean {
  if (loginId !== undefined && loginId !== customerId) {
    const loginReachable = !policy.customers || policy.customers.has(loginId);
    return loginReachable && (policy.managers.get(loginId)?.has(customerId) ?? !policy.customers);
  }
  return !policy.customers || policy.customers.has(customerId);
}

/** The Google Ads API's header checks, in its order: developer token, then login-customer-id. */
export function checkAdsHeaders(developerTokens: ReadonlySet<string>, headers: IncomingHttpHeaders, version: string): string | undefined {
  const developerToken = headerValue(headers, 'developer-token');
  if (!developerToken) {
    throw adsError(version, 401, 'UNAUTHENTICATED', [
      { errorCode: { authenticationError: 'DEVELOPER_TOKEN_PARAMETER_MISSING' }, message: 'Developer token parameter is missing.' },
    ]);
  }
  if (!developerTokens.has(developerToken)) {
    throw adsError(version, 401, 'UNAUTHENTICATED', [{ errorCode: { authenticationError: 'DEVELOPER_TOKEN_INVALID' }, message: 'The developer token is not valid.' }]);
  }
  const login = headerValue(headers, 'login-customer-id');
  if (login !== undefined && !/^\d{10}$/.test(login)) {
    throw adsError(version, 400, 'INVALID_ARGUMENT', [
      { errorCode: { headerError: 'INVALID_LOGIN_CUSTOMER_ID' }, message: 'The login customer ID could not be validated: use ten digits without hyphens.' },
    ]);
  }
  return login;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
