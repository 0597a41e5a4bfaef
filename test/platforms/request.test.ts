// sendRequest's JSON pieces: what a loopback server receives, byte for byte, with which headers.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRequest } from '../../src/platforms/http/request.js';

let server: Server;
let url: string;
const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // Failures a byte body must come back from as the same RetriableErrors a fetch gets.
    if (path === '/hold') return; // never answers
    if (path === '/reset') return void req.socket.resetAndDestroy();
    if (path === '/cut') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"ok":');
      setTimeout(() => res.destroy(), 20);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-business-use-case-usage', '{"act_1":[{"call_count":7}]}');
      res.appendHeader('set-cookie', ['a=1', 'b=2']);
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/users`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('sendRequest with JSON pieces', () => {
  it('sends text and bytes one after another with their length declared, not chunked, and the same bytes on every attempt', async () => {
    const rows = new TextEncoder().encode('[["é","😀"],["b"]]');
    // A view into a larger buffer, as a driver may hand bytes over: only the view is sent.
    const view = new Uint8Array(rows.byteLength + 4);
    view.set(rows, 2);
    const pieces = ['{"schema":["A"],', '"data":', view.subarray(2, 2 + rows.byteLength), '}'];
    const expected = Buffer.from('{"schema":["A"],"data":[["é","😀"],["b"]]}', 'utf8');
    received.length = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await sendRequest({ method: 'POST', url, jsonText: pieces, timeoutMs: 5000 });
      expect(response).toMatchObject({ status: 200, body: { ok: true }, text: '{"ok":true}' });
      // Meta's usage header paces the next requests: it must come through as fetch would give it.
      expect(response.headers.get('x-business-use-case-usage')).toBe('{"act_1":[{"call_count":7}]}');
      expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    }
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(r.body.equals(expected)).toBe(true);
      expect(r.headers['content-length']).toBe(String(expected.byteLength));
      expect(r.headers['transfer-encoding']).toBeUndefined();
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  it('joins pieces that are all text', async () => {
    received.length = 0;
    await sendRequest({ method: 'DELETE', url, jsonText: ['{"a":', '[1,2]', '}'], timeoutMs: 5000 });
    expect(received[0]!.body.toString('utf8')).toBe('{"a":[1,2]}');
    expect(received[0]!.headers['content-length']).toBe('11');
  });
});

describe('sendRequest with bytes, when the connection fails', () => {
  const bytes = (path: string, timeoutMs = 5000) =>
    sendRequest({ method: 'POST', url: url.replace('/users', path), jsonText: ['{"data":', new TextEncoder().encode('[["a"]]'), '}'], timeoutMs });
  const host = () => new URL(url).host;

  it('times out as a retriable error naming the host and the timeout', async () => {
    await expect(bytes('/hold', 300)).rejects.toMatchObject({ name: 'RetriableError', message: `request to ${host()} timed out after 300 ms`, details: { code: 'ETIMEDOUT' } });
  });

  it('reports a reset connection as retriable', async () => {
    await expect(bytes('/reset')).rejects.toMatchObject({ name: 'RetriableError', message: `connection reset by ${host()}`, details: { code: 'ECONNRESET' } });
  });

  it('reports an answer cut off before its end as retriable, not as the part that arrived', async () => {
    await expect(bytes('/cut')).rejects.toMatchObject({ name: 'RetriableError', message: `connection reset by ${host()}` });
  });

  it('reports a refused connection as retriable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const request = sendRequest({ method: 'POST', url: `http://127.0.0.1:${port}/users`, jsonText: ['{"data":', new Uint8Array([0x5b, 0x5d]), '}'], timeoutMs: 5000 });
    await expect(request).rejects.toMatchObject({ name: 'RetriableError', message: `connection refused by 127.0.0.1:${port}` });
  });
});
