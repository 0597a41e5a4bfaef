// A request whose body is pieces of bytes (a batch of megabytes the warehouse encoded), sent with
// node:http(s), each piece written to the socket as it is. fetch copies a byte body, or clones every
// chunk of a streamed one, and passes it through web streams: 4 requests in flight of 4 MB each
// cost it 0.7-1.3 CPU s per 400 MB sent on the machines of bench/, node:http 0.1 s. On two cores
// that CPU was taken from the warehouse encoding the next batches (README, Performance).
// Everything else (small JSON, forms, reads) keeps fetch.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface ByteBodyResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Sends the pieces one after another with their total length declared. The signal aborts the
 * request and its answer alike (a timeout covers the body as well as the headers, as with fetch).
 * Errors are node's own (ECONNRESET, ECONNREFUSED, ...; AbortError once the signal fires).
 */
export function sendByteBody(method: string, url: string, headers: Record<string, string>, pieces: Uint8Array[], signal: AbortSignal): Promise<ByteBodyResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const length = pieces.reduce((n, piece) => n + piece.byteLength, 0);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const request = transport.request(target, { method, headers: { ...headers, 'content-length': String(length) }, signal }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status: response.statusCode ?? 0, headers: webHeaders(response.headers), text: Buffer.concat(chunks).toString('utf8') });
      });
      // Closed before its end (the connection dropped, or the signal fired mid-answer).
      response.on('close', () => {
        if (!response.complete) fail(signal.aborted ? abortError(signal) : Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
      });
    });
    request.on('error', fail);
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', cause: signal.reason as unknown });
}

function webHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}
