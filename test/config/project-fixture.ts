// A small valid project written to a fresh temp dir; each test swaps or removes files to break it
// in exactly one way. Line numbers in the tests refer to these texts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject, type LoadOptions } from '../../src/config/index.js';
import { ConfigError, type ConfigIssue } from '../../src/core/errors.js';

export const PROJECT_YML = `name: acme_audiences
target: dev
targets:
  dev:
    warehouse: { type: duckdb, path: ":memory:" }
  local:
    warehouse: { type: duckdb, path: audsync.duckdb }
    sandbox: true
vars:
  purchase_window_days: 14
defaults:
  max_attempts: 3
  guardrails:
    max_remove_percent: 25
    min_members: 100
`;

export const META_YML = `name: meta_main
type: meta_custom_audiences
ad_account_id: act_1234567890
access_token: \${META_ACCESS_TOKEN}
api_base_url: http://127.0.0.1:9400
`;

export const PURCHASERS_YML = `name: recent_purchasers
tags: [ecommerce, suppression]
sql: recent_purchasers.sql
key: customer_id
identifiers:
  email: email
  phone: phone
syncs:
  - destination: meta_main
    audience: { name: "Recent purchasers" }
    guardrails: { max_remove_percent: 50 }
  - destination: meta_main
    name: recent_purchasers_us
    audience: { id: 23851234567 }
    mode: add_only
`;

export const PURCHASERS_SQL = `select customer_id, email, phone
from {{ ref('customers') }} c
where c.last_purchase_at > current_date - {{ var('purchase_window_days') }}
  and c.brand = '{{ var("brand", 'acme') }}';
`;

export const CUSTOMERS_YML = `name: customers
description: Every customer.
owner: crm
tags: [base]
sql: |
  select * from raw.customers
  where country = '{{ var('country', "US") }}'
key: customer_id
identifiers: { email: email }
consent: ads_consent
updated_at: updated_at
holdout: { percent: 10, salt: 2026q4 }
`;

export const TOKEN = 'EAAB-test-token-0123456789';
export const ENV = { META_ACCESS_TOKEN: TOKEN };

export function baseFiles(): Record<string, string> {
  return {
    'audsync.yml': PROJECT_YML,
    'destinations/meta_main.yml': META_YML,
    'models/recent_purchasers.yml': PURCHASERS_YML,
    'models/recent_purchasers.sql': PURCHASERS_SQL,
    'models/customers.yml': CUSTOMERS_YML,
  };
}

const dirs: string[] = [];

/** The base project with some files replaced (a string) or removed (undefined). */
export async function writeProject(changes: Record<string, string | undefined> = {}, base = baseFiles()): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'audsync-config-'));
  dirs.push(dir);
  const files: Record<string, string | undefined> = { ...base, ...changes };
  for (const [file, text] of Object.entries(files)) {
    if (text === undefined) continue;
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

export async function removeProjects(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** The ConfigError loadProject throws; fails the test when it loads or throws something else. */
export async function loadError(dir: string, options: LoadOptions = {}): Promise<ConfigError> {
  try {
    await loadProject(dir, { env: ENV, ...options });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadProject to throw a ConfigError, but the project loaded');
}

export async function loadIssues(dir: string, options: LoadOptions = {}): Promise<ConfigIssue[]> {
  return (await loadError(dir, options)).issues;
}
