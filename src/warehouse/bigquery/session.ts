// The BigQuery session every job of a run belongs to: opened by the first job (createSession),
// named by connectionProperties on every later one, ended on close. Jobs are submitted one at a
// time, as a session runs its queries in order.
import { WarehouseError } from '../../core/errors.js';
import type { BigQueryClient, BigQueryJob, JobMetadata } from './client.js';
import type { BigQueryConfig } from './config.js';
import { bigqueryError } from './errors.js';

export interface JobOptions {
  params?: unknown[];
  types?: string[];
  createSession?: boolean;
  dryRun?: boolean;
}

export class Session {
  private id: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: BigQueryClient,
    private readonly config: BigQueryConfig,
  ) {}

  /** Opens the session; also proves the credentials work. */
  async start(): Promise<void> {
    const job = await this.run('SELECT 1', { createSession: true });
    const metadata = job.metadata?.statistics?.sessionInfo ? job.metadata : (await job.getMetadata())[0];
    this.id = metadata.statistics?.sessionInfo?.sessionId;
    if (!this.id) throw new WarehouseError('bigquery', 'BigQuery opened no session, and temp tables need one');
  }

  /** Ends the session now rather than after its idle timeout; its temp tables go with it. */
  async end(): Promise<void> {
    if (!this.id) return;
    await this.run('CALL BQ.ABORT_SESSION()').catch(() => undefined);
    this.id = undefined;
  }

  /** Submits a job and waits for it to finish; its rows are then read with getQueryResults. */
  run(sql: string, options: JobOptions = {}): Promise<BigQueryJob> {
    return this.exclusive(async () => {
      try {
        const [job] = await this.client.createQueryJob(this.jobOptions(sql, options));
        for (;;) {
          const [, , response] = await job.getQueryResults({ maxResults: 0, autoPaginate: false });
          if (response?.jobComplete !== false) return job;
        }
      } catch (error) {
        throw bigqueryError(error, sql);
      }
    });
  }

  /** A dry run: the statement is checked and measured, nothing runs or is billed. */
  dryRun(sql: string): Promise<JobMetadata> {
    return this.exclusive(async () => {
      try {
        const [job, response] = await this.client.createQueryJob(this.jobOptions(sql, { dryRun: true }));
        return job.metadata ?? (response as JobMetadata | undefined) ?? {};
      } catch (error) {
        throw bigqueryError(error, sql);
      }
    });
  }

  private jobOptions(sql: string, options: JobOptions): Record<string, unknown> {
    const { config } = this;
    return {
      query: sql,
      useLegacySql: false,
      location: config.location,
      labels: { tool: 'audsync' },
      ...(options.params && options.params.length > 0 ? { params: options.params } : {}),
      ...(options.types ? { types: options.types } : {}),
      ...(options.createSession ? { createSession: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(this.id ? { connectionProperties: [{ key: 'session_id', value: this.id }] } : {}),
      ...(config.dataset ? { defaultDataset: { projectId: config.project, datasetId: config.dataset } } : {}),
      ...(config.maximum_bytes_billed ? { maximumBytesBilled: String(config.maximum_bytes_billed) } : {}),
      ...(config.job_timeout_ms ? { jobTimeoutMs: config.job_timeout_ms } : {}),
    };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
