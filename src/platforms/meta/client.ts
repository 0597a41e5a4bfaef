// Graph API calls for one destination: URLs, the access token and appsecret_proof. Reads carry the
// token in the Authorization header and writes in the JSON body, so it is never in a URL.
import { createHmac } from 'node:crypto';
import type { JsonText } from '../http/json-text.js';
import type { HttpResponse, HttpSend } from '../http/request.js';

export interface GraphClientOptions {
  /** The runtime's request function (PlatformContext.http): each call waits for the ad account's limit. */
  http: HttpSend;
  baseUrl: string; // checked, no trailing slash
  apiVersion: string;
  accessToken: string;
  appSecret?: string;
  timeoutMs: number;
}

export class GraphClient {
  private readonly proof: string | undefined;

  constructor(private readonly options: GraphClientOptions) {
    // Apps with "Require App Secret" refuse calls without it; it binds the token to our app.
    this.proof = options.appSecret ? createHmac('sha256', options.appSecret).update(options.accessToken).digest('hex') : undefined;
  }

  get(path: string[], query: Record<string, string>): Promise<HttpResponse> {
    const params = new URLSearchParams(query);
    if (this.proof) params.set('appsecret_proof', this.proof);
    return this.options.http({
      method: 'GET',
      url: `${this.url(path)}?${params}`,
      headers: { authorization: `Bearer ${this.options.accessToken}` },
      timeoutMs: this.options.timeoutMs,
    });
  }

  /**
   * A write. `jsonParams` are parameters whose value is JSON text already (an encoded payload of
   * megabytes, in pieces of text or bytes): spliced into the body as they are (request.ts sends
   * the pieces one after another), instead of parsed and written again.
   */
  write(method: 'POST' | 'DELETE', path: string[], params: Record<string, unknown>, jsonParams: Record<string, JsonText[]> = {}): Promise<HttpResponse> {
    const auth = { access_token: this.options.accessToken, ...(this.proof ? { appsecret_proof: this.proof } : {}) };
    const base = { method, url: this.url(path), timeoutMs: this.options.timeoutMs };
    const spliced = Object.entries(jsonParams);
    if (spliced.length === 0) return this.options.http({ ...base, json: { ...auth, ...params } });
    const head = JSON.stringify({ ...auth, ...params }).slice(0, -1); // the object less its closing brace; never empty: auth is in it
    const pieces = spliced.flatMap(([key, text]) => [`,${JSON.stringify(key)}:`, ...text]);
    return this.options.http({ ...base, jsonText: [head, ...pieces, '}'] });
  }

  /** Values no message may contain. */
  get secrets(): string[] {
    return [this.options.accessToken, this.options.appSecret, this.proof].filter((s): s is string => !!s);
  }

  private url(path: string[]): string {
    return [this.options.baseUrl, this.options.apiVersion, ...path.map(encodeURIComponent)].join('/');
  }
}
