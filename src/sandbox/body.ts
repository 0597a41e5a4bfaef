// Request bodies for the simulators: bounded reads, and the two encodings ad APIs take
// (JSON, and form fields whose object values are JSON text).
import type { IncomingMessage } from 'node:http';

/** Meta takes 10,000 rows per call; with several hashed keys a row is ~600 bytes, so ~6 MB, and clients pad. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * Reads the whole body. Past the cap it keeps draining and discarding, so the client reads our 413
 * instead of a broken pipe; past four times the cap it gives up on the connection.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > maxBytes * 4) {
        settle({ ok: false, reason: 'aborted' });
        req.destroy();
      }
    });
    req.on('end', () => settle(size > maxBytes ? { ok: false, reason: 'too_large' } : { ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => settle({ ok: false, reason: 'aborted' }));
    req.on('close', () => settle({ ok: false, reason: 'aborted' }));
  });
}

export class BodyParseError extends Error {}

/** A Content-Type header's media type, lowercase, without parameters ('' when there is none). */
export function mediaType(contentType: string | string[] | undefined): string {
  return String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parameters of a POST/DELETE body: a JSON object, or form fields. Empty bodies give {}. */
export function parseParams(body: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (type === 'application/json' || (type === '' && text.trimStart().startsWith('{'))) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new BodyParseError('the request body is not valid JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BodyParseError('the JSON body must be an object');
    return value as Record<string, unknown>;
  }
  if (type === '') return Object.fromEntries(new URLSearchParams(text));
  throw new BodyParseError(`unsupported content type '${type}': send application/json or application/x-www-form-urlencoded`);
}

/** Object parameters arrive as objects in JSON bodies and as JSON text in forms and query strings. */
export function objectParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
