// The Meta simulator in its own process, so its CPU and memory are never counted as audsync's.
// Started by run.ts with fork(); options as JSON in argv[2]; answers 'stats' messages over IPC.
import { startSandbox } from '../src/sandbox/index.js';
import type { MetaSimulatorOptions } from '../src/sandbox/meta/simulator.js';
import type { SimReply, SimRequest } from '../src/sandbox/simulator.js';

export interface SimulatorStats {
  requests: number;
  rowsAdded: number;
  rowsRemoved: number;
  /** Request body bytes of the users calls answered 200. */
  bytes: number;
  throttled: number;
  /** CPU seconds (user + system) since the process started. */
  cpuSeconds: number;
  maxRssBytes: number;
}

// sink: add and remove requests are answered at once, their bodies neither parsed nor checked (rows
// are counted by their '['), to measure what the client alone can send.
const { sink, ...options } = JSON.parse(process.argv[2] ?? '{}') as MetaSimulatorOptions & { sink?: boolean };
const sandbox = await startSandbox({ meta: { ...options, countMembersOnly: true } });
const stats = { requests: 0, rowsAdded: 0, rowsRemoved: 0, bytes: 0, throttled: 0 };

// Tally every answer to the users endpoints (the request log keeps only the last 1,000).
const meta = sandbox.meta;
const handle = meta.handle.bind(meta);
meta.handle = async (request: SimRequest): Promise<SimReply> => {
  const reply = sink && /\/users$/.test(request.path) ? acknowledge(request) : await handle(request);
  if (/\/users$/.test(request.path)) {
    stats.requests++;
    if ('status' in reply && reply.status === 200) {
      const received = Number((reply.body as { num_received?: number }).num_received ?? 0);
      stats.bytes += request.body.length;
      if (request.method === 'DELETE') stats.rowsRemoved += received;
      else stats.rowsAdded += received;
    } else if ('status' in reply && (reply.status === 429 || reply.status === 400) && JSON.stringify(reply.body).includes('"code":80003')) {
      stats.throttled++;
    }
  }
  return reply;
};

function acknowledge(request: SimRequest): SimReply {
  let brackets = 0;
  for (let i = request.body.indexOf(0x5b); i !== -1; i = request.body.indexOf(0x5b, i + 1)) brackets++;
  const rows = Math.max(0, brackets - 2); // the schema's and the data's own '['
  return { status: 200, body: { audience_id: request.path.split('/').at(-2), session_id: '1', num_received: rows, num_invalid_entries: 0, invalid_entry_samples: {} } };
}

process.on('message', (message: unknown) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    const out: SimulatorStats = { ...stats, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    process.send?.({ stats: out });
  } else if (message === 'close') {
    void sandbox.close().then(() => process.exit(0));
  }
});
process.send?.({ url: sandbox.urlFor('meta') });
