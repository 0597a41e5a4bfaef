// One loopback HTTP server for every simulator, each under its own path prefix (/meta/...), so the
// next platform is one more folder and one more entry in `simulators`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../platforms/http/base-url.js';
import { DEFAULT_MAX_BODY_BYTES, readBody } from './body.js';
import { faultsFromEnv, type FaultOptions } from './faults.js';
import { GoogleSimulator, type GoogleSimulatorOptions } from './google/simulator.js';
import { MetaSimulator, type MetaSimulatorOptions } from './meta/simulator.js';
import type { SimReply, Simulator } from './simulator.js';
import { StateFile } from './state-file.js';

export type SandboxPlatform = 'meta' | 'google';

export interface SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Must be a loopback address: the sandbox accepts a well-known token and must not be reachable from outside. */
  host?: string;
  /** Keep audiences and members in this JSON file across restarts. */
  stateFile?: string;
  meta?: MetaSimulatorOptions;
  google?: GoogleSimulatorOptions;
  /**
   * Faults for every simulator that sets none of its own (meta.faults, google.faults). Default: read
   * from AUDSYNC_SANDBOX_FAULTS in `env` (see faults.ts faultsFromEnv), so a sandbox started by
   * `audsync sandbox` or by a `sandbox: true` target can be made unreliable from the outside.
   */
  faults?: FaultOptions;
  /** Where AUDSYNC_SANDBOX_FAULTS is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Bodies above this get HTTP 413 (default 32 MB). */
  maxBodyBytes?: number;
}

export interface Sandbox {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** The base URL a platform's api_base_url should point at: `${url}/meta`, `${url}/google`. */
  urlFor(platform: SandboxPlatform): string;
  meta: MetaSimulator;
  google: GoogleSimulator;
  /** Stops listening, ends open sockets (held requests included) and writes the state file. */
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`the sandbox listens on loopback only (127.0.0.1, ::1, localhost), not '${host}'`);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const faults = options.faults ?? faultsFromEnv(options.env ?? process.env);
  let stateFile: StateFile | undefined;
  const meta = new MetaSimulator({ ...options.meta, faults: options.meta?.faults ?? faults }, () => stateFile?.changed());
  const google = new GoogleSimulator({ ...options.google, faults: options.google?.faults ?? faults }, () => stateFile?.changed());
  const simulators: Record<SandboxPlatform, Simulator> = { meta, google };
  if (options.stateFile) {
    stateFile = new StateFile(options.stateFile, () => ({ meta: meta.snapshot(), google: google.snapshot() }));
    const saved = await stateFile.load();
    if (saved?.meta !== undefined) meta.restore(saved.meta);
    if (saved?.google !== undefined) google.restore(saved.google);
  }

  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy()); // a simulator bug must cost one request, not the server
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const prefix = url.pathname.split('/')[1] ?? '';
    if (prefix === '' && req.method === 'GET') {
      return write(req, res, { status: 200, body: { simulators: { meta: sandbox.urlFor('meta'), google: sandbox.urlFor('google') } } });
    }
    if (!Object.hasOwn(simulators, prefix)) {
      return write(req, res, { status: 404, body: { error: { message: `no simulator at /${prefix}: try /meta or /google`, code: 404 } } });
    }
    const simulator = simulators[prefix as SandboxPlatform];
    const body = await readBody(req, maxBodyBytes);
    if (!body.ok) {
      if (body.reason === 'aborted') return;
      res.setHeader('connection', 'close');
      return write(req, res, simulator.transportError(413, `the request body exceeds the sandbox limit of ${maxBodyBytes} bytes`));
    }
    const reply = await simulator.handle({
      method: req.method ?? 'GET',
      path: url.pathname.slice(prefix.length + 1) || '/',
      query: url.searchParams,
      headers: req.headers,
      body: body.body,
      baseUrl: `http://${req.headers.host ?? new URL(sandbox.url).host}/${prefix}`,
    });
    write(req, res, reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const sandbox: Sandbox = {
    url: `http://${urlHost}:${address.port}`,
    urlFor: (platform) => `${sandbox.url}/${platform}`,
    meta,
    google,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive and held sockets would otherwise delay close by seconds
      }).then(() => stateFile?.flush());
      return closing;
    },
  };
  return sandbox;
}

function write(req: IncomingMessage, res: ServerResponse, reply: SimReply): void {
  if (res.destroyed || res.writableEnded) return;
  if ('drop' in reply) {
    if (reply.drop === 'reset') {
      req.socket.resetAndDestroy(); // a TCP RST, so clients see ECONNRESET as from a real proxy
      return;
    }
    // Unref'd and cleared with the socket, so a held request never keeps the process or close() waiting.
    const timer = setTimeout(() => req.socket.destroy(), reply.ms).unref();
    req.socket.once('close', () => clearTimeout(timer));
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}
