// Access tokens for both Google APIs: one given in the environment, or one minted from a refresh
// token at Google's token endpoint, cached until shortly before it expires and minted again when
// Google refuses it mid-run. Concurrent requests share one exchange. Every token is registered as
// a secret; no message carries one.
import { FatalError, RetriableError } from '../../core/errors.js';
import { registerSecret } from '../../core/secrets.js';
import type { HttpSend } from '../http/request.js';
import { scrub } from './errors.js';

export interface TokenSource {
  /** A token to send now. */
  token(): Promise<string>;
  /** Google refused `token` (HTTP 401): forget it. True when asking again can give a new one. */
  invalidate(token: string): boolean;
  /** Values no message may contain. */
  readonly secrets: string[];
}

export class StaticToken implements TokenSource {
  constructor(private readonly value: string) {
    registerSecret(value);
  }

  async token(): Promise<string> {
    return this.value;
  }

  invalidate(): boolean {
    return false; // nothing to refresh it with
  }

  get secrets(): string[] {
    return [this.value];
  }
}

export interface RefreshOptions {
  /**
   * The platform's request function: the exchange waits in the account's rate limit like any other
   * call. It is not a call against the account's quota, but one slot an hour is cheap, and a
   * platform holding only this function cannot send a request outside the limit by mistake.
   */
  http: HttpSend;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  timeoutMs: number;
  now?: () => number;
}

interface Cached {
  value: string;
  /** When to stop using it: shortly before Google says it expires. */
  renewAt: number;
}

/** Renew when a minute is left, or a tenth of the lifetime for short-lived tokens. */
const MAX_MARGIN_MS = 60_000;

export class RefreshingToken implements TokenSource {
  private cached: Cached | undefined;
  private pending: Promise<string> | undefined;
  private readonly minted: string[] = [];
  private readonly now: () => number;

  constructor(private readonly options: RefreshOptions) {
    registerSecret(options.clientSecret);
    registerSecret(options.refreshToken);
    this.now = options.now ?? Date.now;
  }

  token(): Promise<string> {
    if (this.cached && this.now() < this.cached.renewAt) return Promise.resolve(this.cached.value);
    // One exchange however many requests ask at once.
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(token: string): boolean {
    // Only the token that failed: a request holding an older one must not drop a fresh one.
    if (this.cached?.value === token) this.cached = undefined;
    return true;
  }

  get secrets(): string[] {
    return [this.options.clientSecret, this.options.refreshToken, ...this.minted.slice(-8)];
  }

  private async exchange(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, refreshToken, timeoutMs } = this.options;
    const host = new URL(tokenUrl).host;
    const response = await this.options.http({
      method: 'POST',
      url: tokenUrl,
      form: { grant_type: 'refresh_token', client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken },
      timeoutMs,
    });
    const body = (response.body ?? {}) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
    if (response.status === 200 && typeof body.access_token === 'string' && body.access_token !== '') {
      registerSecret(body.access_token);
      this.minted.push(body.access_token);
      const lifetimeMs = (Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600) * 1000;
      this.cached = { value: body.access_token, renewAt: this.now() + lifetimeMs - Math.min(MAX_MARGIN_MS, lifetimeMs / 10) };
      return body.access_token;
    }
    const code = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    const said = typeof body.error_description === 'string' ? `: ${scrub(body.error_description, this.secrets)}` : '';
    const details = { status: response.status, code };
    if (response.status === 429 || response.status >= 500) {
      throw new RetriableError(`the token endpoint ${host} answered ${code}${said}`, details);
    }
    if (code === 'invalid_grant') {
      throw new FatalError(`the token endpoint ${host} refused the refresh token (invalid_grant${said})`, details, {
        hint: "the refresh token expired or was revoked: create a new one for a Google account with access to the customer, and set oauth.refresh_token's variable to it",
      });
    }
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      throw new FatalError(`the token endpoint ${host} refused the OAuth client (${code}${said})`, details, {
        hint: 'check oauth.client_id and the variable of oauth.client_secret: they must be the OAuth client that issued the refresh token',
      });
    }
    throw new FatalError(`the token endpoint ${host} answered ${code}${said} without an access token`, details, {
      hint: 'check oauth.token_url (or oauth_token_url): it must be a Google OAuth 2.0 token endpoint',
    });
  }
}
