// One HTTP request with the global fetch. Network failures become RetriableError with messages
// that name only the host: URLs may carry tokens in their query string, bodies carry hashes.
// Platforms do not call sendRequest themselves: they get an HttpSend from the runtime
// (PlatformContext.http), which waits for a slot of the ad account's rate limit before each call.
import { RetriableError } from '../../core/errors.js';
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
  let body: string | URLSearchParams | AsyncIterable<Uint8Array> | undefined;
  if (request.jsonText !== undefined) {
    headers['content-type'] = 'application/json';
    body = jsonBody(request.jsonText, headers);
  } else if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  } else if (request.form) {
    body = new URLSearchParams(request.form);
  }
  try {
    // The timeout covers the body as well as the headers, since the signal stays armed until text() ends.
    // duplex: required by fetch for a body it reads as it sends (an iterable); harmless for others.
    const init = { method: request.method, headers, body, duplex: 'half', signal: AbortSignal.timeout(request.timeoutMs) };
    const response = await fetch(request.url, init as RequestInit);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: parseJson(text), text };
  } catch (error) {
    throw networkError(error, host, request.timeoutMs);
  }
}

/**
 * Pieces of JSON text as a request body. Strings are joined. With bytes among them (a batch of
 * megabytes the warehouse encoded), each piece is written to the connection as it is, with its
 * length declared: joined, the bytes were copied once, and again by fetch, which copies a byte
 * body; with 4 requests in flight and batches read ahead, those copies were 150-300 MB of a 10M
 * first sync's peak memory (bench/).
 */
function jsonBody(pieces: JsonText[], headers: Record<string, string>): string | AsyncIterable<Uint8Array> {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
  const bytes = pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece));
  headers['content-length'] = String(bytes.reduce((n, piece) => n + piece.byteLength, 0));
  return (async function* () {
    yield* bytes;
  })();
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
