import { z } from 'zod';
import type { WarehouseConfigSpec } from '../registry.js';

// Credentials: Application Default Credentials unless one of key_file / credentials_json is set.
// credentials_json is the service-account key itself, always through ${ENV} (a secret field).
export const bigqueryConfigSchema = z
  .strictObject({
    /** The project jobs run and are billed in; also the project of the state dataset. */
    project: z.string().regex(/^[a-z][a-z0-9.:-]{4,62}$/, 'a project id such as acme-dwh'),
    /** Where jobs run and the state dataset is created: US, EU or a region such as europe-west3. */
    location: z.string().min(2).default('US'),
    /** Dataset that unqualified table names in models resolve to (a job's default dataset). */
    dataset: z.string().regex(/^[A-Za-z0-9_]{1,1024}$/, 'a dataset name: letters, digits and underscores').optional(),
    /** A service-account key file, relative to the project dir. */
    key_file: z.string().min(1).optional(),
    credentials_json: z
      .string()
      .refine(isServiceAccountJson, 'not a service-account key: expected JSON with client_email and private_key')
      .optional(),
    /** Every job fails instead of billing more than this many bytes. */
    maximum_bytes_billed: z.number().int().positive().optional(),
    /** A job running longer is cancelled by BigQuery. */
    job_timeout_ms: z.number().int().positive().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.key_file !== undefined && c.credentials_json !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['credentials_json'], message: 'use either key_file: or credentials_json:, not both' });
    }
  });

export type BigQueryConfig = z.output<typeof bigqueryConfigSchema>;

function isServiceAccountJson(text: string): boolean {
  try {
    const key = JSON.parse(text) as Record<string, unknown>;
    return typeof key.client_email === 'string' && typeof key.private_key === 'string';
  } catch {
    return false;
  }
}

export const configSpec: WarehouseConfigSpec = {
  type: 'bigquery',
  schema: bigqueryConfigSchema,
  secretFields: ['credentials_json'],
};
