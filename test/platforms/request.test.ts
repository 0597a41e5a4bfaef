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
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
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
      expect(response).toMatchObject({ status: 200, body: { ok: true } });
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
