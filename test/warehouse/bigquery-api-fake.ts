// A loopback stand-in for the three BigQuery REST calls the warehouse makes through the real
// @google-cloud/bigquery client: jobs.insert, jobs.getQueryResults (paged), jobs.get. It records
// each job's configuration as the client sent it and answers from a small script, so the test sees
// what actually goes over the wire (session properties, parameters, page tokens).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTable {
  fields: { name: string; type: string }[];
  rows: unknown[][];
}

export interface FakeApi {
  url: string;
  /** Job configurations as received (configuration.query plus dryRun). */
  jobs: Record<string, any>[];
  /** getQueryResults calls: job id, maxResults, pageToken. */
  reads: { jobId: string; maxResults: string | null; pageToken: string | null }[];
  /** What a query returns, by its SQL. */
  results: (sql: string) => FakeTable | undefined;
  /** A job error for this SQL, as BigQuery reports it in status.errorResult. */
  failure: (sql: string) => string | undefined;
  close(): Promise<void>;
}

const PAGE = 2; // rows per page, whatever maxResults asks: BigQuery also sends fewer when pages are large

export async function startBigQueryApi(): Promise<FakeApi> {
  const jobs = new Map<string, { resource: Record<string, any>; table: FakeTable | undefined; polled: boolean }>();
  const api: FakeApi = { url: '', jobs: [], reads: [], results: () => undefined, failure: () => undefined, close: async () => {} };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const insert = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(url.pathname);
      const results = /^\/bigquery\/v2\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(url.pathname);
      const get = /^\/bigquery\/v2\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'POST' && insert) {
        const request = JSON.parse(body) as Record<string, any>;
        const query = request.configuration.query as Record<string, any>;
        api.jobs.push({ ...query, dryRun: request.configuration.dryRun === true, labels: request.configuration.labels, location: request.jobReference.location });
        const sql = String(query.query);
        const table = api.results(sql);
        const error = api.failure(sql);
        const statistics: Record<string, any> = {};
        if (query.createSession) statistics.sessionInfo = { sessionId: 'session-42' };
        if (request.configuration.dryRun) Object.assign(statistics, { totalBytesProcessed: '2048', query: { schema: { fields: table?.fields ?? [] } } });
        const status = error ? { state: 'DONE', errorResult: { reason: 'invalidQuery', message: error }, errors: [{ reason: 'invalidQuery', message: error }] } : { state: 'DONE' };
        const resource = { kind: 'bigquery#job', jobReference: request.jobReference, configuration: request.configuration, status, statistics };
        jobs.set(request.jobReference.jobId, { resource, table, polled: false });
        send(200, resource);
      } else if (req.method === 'GET' && results) {
        const job = jobs.get(results[2]!);
        if (!job) return send(404, { error: { code: 404, message: 'Not found: Job' } });
        api.reads.push({ jobId: results[2]!, maxResults: url.searchParams.get('maxResults'), pageToken: url.searchParams.get('pageToken') });
        if (!job.polled) {
          job.polled = true; // the first answer of every job: still running
          return send(200, { kind: 'bigquery#getQueryResultsResponse', jobReference: job.resource.jobReference, jobComplete: false });
        }
        const table = job.table ?? { fields: [], rows: [] };
        const start = Number(url.searchParams.get('pageToken') ?? 0);
        const max = Number(url.searchParams.get('maxResults') ?? PAGE);
        const rows = table.rows.slice(start, start + Math.min(max, PAGE));
        const next = start + rows.length < table.rows.length && max > 0 ? String(start + rows.length) : undefined;
        send(200, {
          kind: 'bigquery#getQueryResultsResponse',
          jobReference: job.resource.jobReference,
          jobComplete: true,
          schema: { fields: table.fields },
          totalRows: String(table.rows.length),
          ...(rows.length > 0 ? { rows: rows.map((r) => ({ f: r.map((v) => ({ v })) })) } : {}),
          ...(next ? { pageToken: next } : {}),
        });
      } else if (req.method === 'GET' && get) {
        const job = jobs.get(get[2]!);
        if (!job) return send(404, { error: { code: 404, message: 'Not found: Job' } });
        send(200, job.resource);
      } else {
        send(404, { error: { code: 404, message: `no fake for ${req.method} ${url.pathname}` } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => new Promise((resolve) => server.close(() => resolve()));
  return api;
}

/** Auth for the client that never leaves the process: a fixed bearer token. */
export const staticAuth = { getRequestHeaders: async () => new Headers({ authorization: 'Bearer test-token' }) };
