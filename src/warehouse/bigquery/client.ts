// The part of @google-cloud/bigquery the warehouse uses, as structural types (the core never
// depends on the SDK's own), and the one place the SDK is loaded: lazily, on connect.
import { resolve } from 'node:path';
import type { WarehouseContext } from '../warehouse.js';
import type { BigQueryConfig } from './config.js';

export interface JobMetadata {
  statistics?: {
    totalBytesProcessed?: string;
    sessionInfo?: { sessionId?: string };
    query?: { schema?: { fields?: { name?: string; type?: string }[] } };
  };
}

export interface ResultsResponse {
  jobComplete?: boolean;
  pageToken?: string;
}

export interface BigQueryJob {
  readonly metadata?: JobMetadata;
  getMetadata(): Promise<[JobMetadata, ...unknown[]]>;
  getQueryResults(options: Record<string, unknown>): Promise<[Record<string, unknown>[], unknown?, ResultsResponse?]>;
}

export interface BigQueryClient {
  createQueryJob(options: Record<string, unknown>): Promise<[BigQueryJob, ...unknown[]]>;
}

/** `sdkOptions` adds client options (tests point the client at a loopback fake of the REST API). */
export async function createClient(config: BigQueryConfig, context: WarehouseContext, sdkOptions: Record<string, unknown> = {}): Promise<BigQueryClient> {
  const { BigQuery } = await import('@google-cloud/bigquery');
  const client = new BigQuery({
    projectId: config.project,
    location: config.location,
    // Neither set: Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server).
    ...(config.key_file ? { keyFilename: resolve(context.projectDir, config.key_file) } : {}),
    ...(config.credentials_json ? { credentials: JSON.parse(config.credentials_json) as Record<string, string> } : {}),
    ...sdkOptions,
  });
  return client as unknown as BigQueryClient;
}
