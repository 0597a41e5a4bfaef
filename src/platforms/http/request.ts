// One HTTP request: with the global fetch, or node:http for a body of bytes (byte-body.ts). Network
// failures become RetriableError with messages that name only the host: URLs may carry tokens in
// their query string, bodies carry hashes.
// Platforms do not call sendRequest themselves: they get an HttpSend from the runtime
// (PlatformContext.http), which waits for a slot of the ad account's rate limit before each call.
import { RetriableError } from '../../core/errors.js';
import { sendByteBody } from './byte-body.js';
import type { JsonText } from './json-text.js';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/json as it is, piece after piece: JSON text the caller wrote (a payload the warehouse encoded). */
  jsonText?: JsonText[];
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
  text: string;
}

/** How a platform makes a request: the runtime's, rate limited per ad account (PlatformContext.http). */
export type HttpSend = (request: HttpRequest) => Promise<HttpResponse>;

export async function sendRequest(request: HttpRequest): Promise<HttpResponse> {
  const host = hostOf(request.url); // throws a plain Error: a malformed URL is a bug, not worth a retry
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  // The timeout covers the body as well as the headers: the signal stays armed until the answer ends.
  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    if (request.jsonText?.some((piece) => typeof piece !== 'string')) {
      // Bytes the warehouse encoded, megabytes a request: written to the socket as they are (byte-body.ts).
      headers['content-type'] = 'application/json';
      const pieces = request.jsonText.map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece));
      const response = await sendByteBody(request.method, request.url, headers, pieces, signal);
      return { ...response, body: parseJson(response.text) };
    }
    let body: string | URLSearchParams | undefined;
    if (request.jsonText !== undefined) {
      headers['content-type'] = 'application/json';
      body = request.jsonText.join('');
    } else if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      body = new URLSearchParams(request.form);
    }
    const response = await fetch(request.url, { method: request.method, headers, body, signal });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: parseJson(text), text };
  } catch (error) {
    throw networkError(signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? signal.reason : error, host, request.timeoutMs);
  }
}

function networkError(error: unknown, host: string, timeoutMs: number): RetriableError {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError') return new RetriableError(`request to ${host} timed out after ${timeoutMs} ms`, { code: 'ETIMEDOUT' }, { cause: error });
  if (name === 'AbortError') return new RetriableError(`request to ${host} was aborted`, { code: 'ABORTED' }, { cause: error });
  const code = errorCode(error);
  const message = MESSAGES[code]?.(host) ?? `request to ${host} failed (${code})`;
  return new RetriableError(message, { code }, { cause: error });
}

const MESSAGES: Record<string, (host: string) => string> = {
  ECONNRESET: (host) => `connection reset by ${host}`,
  UND_ERR_SOCKET: (host) => `connection reset by ${host}`,
  EPIPE: (host) => `connection reset by ${host}`,
  ECONNREFUSED: (host) => `connection refused by ${host}`,
  UND_ERR_CLOSED: (host) => `connection to ${host} closed before an answer (socket hang up)`,
  ETIMEDOUT: (host) => `connection to ${host} timed out`,
  UND_ERR_CONNECT_TIMEOUT: (host) => `connection to ${host} timed out`,
  UND_ERR_HEADERS_TIMEOUT: (host) => `${host} did not answer in time`,
  UND_ERR_BODY_TIMEOUT: (host) => `${host} stopped sending its answer`,
  ENOTFOUND: (host) => `could not resolve ${host}`,
  EAI_AGAIN: (host) => `could not resolve ${host} (temporary DNS failure)`,
  ENETUNREACH: (host) => `network unreachable for ${host}`,
  EHOSTUNREACH: (host) => `host ${host} unreachable`,
};

/** undici wraps the system error: TypeError('fetch failed', { cause: { code } }), sometimes twice. */
function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'NETWORK_ERROR';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    throw new Error('cannot send a request to an invalid URL');
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
