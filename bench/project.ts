// The benchmark's audsync project: one DuckDB file holding the CRM (schema crm) and audsync's state,
// one model over every customer, one Meta destination pointed at the loopback simulator.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_SQL } from './crm.js';

export const DATABASE_FILE = 'audsync.duckdb';
export const TOKEN_ENV = 'AUDSYNC_BENCH_META_TOKEN';
export const AUDIENCE = 'Bench: all consented customers';

export interface ProjectSettings {
  /** DuckDB memory_limit for the target, e.g. '1GB'. */
  memoryLimit?: string;
  threads?: number;
  metaUrl: string;
  /** Destination limits: requests per second, concurrency, rows per request. */
  limits?: { requests_per_second?: number; concurrency?: number; batch_size?: number };
  /** The model's identifiers as a YAML flow mapping; default every identifier the CRM has. */
  identifiers?: string;
}

export const ALL_IDENTIFIERS = '{ email: email, phone: phone, first_name: first_name, last_name: last_name, zip: zip, country: country }';

export async function writeProject(dir: string, s: ProjectSettings): Promise<void> {
  await mkdir(join(dir, 'models'), { recursive: true });
  await mkdir(join(dir, 'destinations'), { recursive: true });
  const warehouse = [`type: duckdb`, `path: ${DATABASE_FILE}`];
  if (s.memoryLimit) warehouse.push(`memory_limit: ${s.memoryLimit}`);
  if (s.threads) warehouse.push(`threads: ${s.threads}`);
  await writeFile(
    join(dir, 'audsync.yml'),
    `name: bench
target: bench
targets:
  bench:
    warehouse: { ${warehouse.join(', ')} }
state_schema: audsync
defaults:
  guardrails: { max_remove_percent: 100, min_members: 0 }
`,
  );
  await writeFile(
    join(dir, 'models', 'customers.yml'),
    `name: customers
sql: |
${MODEL_SQL.split('\n').map((l) => `  ${l}`).join('\n')}
key: customer_id
identifiers: ${s.identifiers ?? ALL_IDENTIFIERS}
consent: ads_consent
updated_at: updated_at
syncs:
  - destination: meta
    audience: { name: "${AUDIENCE}" }
`,
  );
  const limits = s.limits ? `limits: { ${Object.entries(s.limits).map(([k, v]) => `${k}: ${v}`).join(', ')} }\n` : '';
  await writeFile(
    join(dir, 'destinations', 'meta.yml'),
    `name: meta
type: meta_custom_audiences
ad_account_id: act_1000
access_token: \${${TOKEN_ENV}}
api_base_url: ${s.metaUrl}
${limits}`,
  );
}
