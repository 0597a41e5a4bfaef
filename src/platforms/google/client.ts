// HTTP calls to one Google API for one destination: URL, bearer token and headers. A 401 whose
// cause a new token can fix gets one refresh and one retry of the same request; a second 401 is
// the caller's to classify (a FatalError). The token goes in the Authorization header only.
import type { HttpResponse, HttpSend } from '../http/request.js';
import { NOT_TOKEN_PROBLEMS, readRpcError } from './errors.js';
import type { TokenSource } from './oauth.js';

export interface GoogleClientOptions {
  /** The runtime's request function (PlatformContext.http): each call waits for the account's limit. */
  http: HttpSend;
  baseUrl: string; // checked, no trailing slash
  tokens: TokenSource;
  /** developer-token and login-customer-id for the Google Ads API; none for the Data Manager API. */
  headers?: Record<string, string>;
  timeoutMs: number;
}

export class GoogleClient {
  constructor(private readonly options: GoogleClientOptions) {}

  post(path: string, json: unknown): Promise<HttpResponse> {
    return this.call('POST', `${this.options.baseUrl}${path}`, json);
  }

  get(path: string, query: Record<string, string>): Promise<HttpResponse> {
    return this.call('GET', `${this.options.baseUrl}${path}?${new URLSearchParams(query)}`);
  }

  /** Values no message may contain. */
  get secrets(): string[] {
    return [...this.options.tokens.secrets, ...Object.values(this.options.headers ?? {}).filter((v) => v.length >= 6)];
  }

  private async call(method: string, url: string, json?: unknown): Promise<HttpResponse> {
    const token = await this.options.tokens.token();
    const response = await this.send(method, url, token, json);
    if (response.status !== 401 || !this.refreshable(response) || !this.options.tokens.invalidate(token)) return response;
    return this.send(method, url, await this.options.tokens.token(), json);
  }

  private send(method: string, url: string, token: string, json: unknown): Promise<HttpResponse> {
    const headers = { ...this.options.headers, authorization: `Bearer ${token}` };
    return this.options.http({ method, url, headers, json, timeoutMs: this.options.timeoutMs });
  }

  /** A bad developer token or an unknown customer also answer 401; a new access token fixes neither. */
  private refreshable(response: HttpResponse): boolean {
    return !readRpcError(response, this.secrets).reasons.some((r) => NOT_TOKEN_PROBLEMS.has(r));
  }
}
