// The project `audsync init` writes: it runs as-is on embedded DuckDB against the local simulators,
// so a newcomer sees a full run before connecting anything real.
export const templateFiles: Record<string, string> = {
  'audsync.yml': `name: my_audiences
target: dev
targets:
  dev:
    warehouse: { type: duckdb, path: audsync.duckdb }
    sandbox: true          # destinations talk to audsync's local simulators; nothing leaves this machine
  # prod:
  #   warehouse: { type: duckdb, path: /data/warehouse.duckdb }
state_schema: audsync      # where audsync keeps snapshots and the audit trail
vars:
  window_days: 30
defaults:
  mode: mirror
  guardrails: { max_remove_percent: 50, min_members: 1 }
`,
  'models/recent_buyers.yml': `name: recent_buyers
description: Customers who bought in the last {{ var('window_days') }} days (sample data inline).
tags: [suppression]
sql: recent_buyers.sql
key: customer_id
identifiers: { email: email }
consent: ads_consent
syncs:
  - destination: meta_main
    audience: { name: "Recent buyers" }
`,
  'models/recent_buyers.sql': `-- Replace the sample rows with a query over your own tables.
SELECT customer_id, email, ads_consent
FROM (VALUES
  ('c1', 'ana@example.com', TRUE, DATE '2026-11-20'),
  ('c2', ' Bo@Example.com ', TRUE, DATE '2026-11-25'),
  ('c3', 'cy@example.com', FALSE, DATE '2026-11-26')
) AS orders(customer_id, email, ads_consent, ordered_at)
WHERE ordered_at >= DATE '2026-11-29' - INTERVAL {{ var('window_days') }} DAY
`,
  'destinations/meta_main.yml': `name: meta_main
type: meta_custom_audiences
ad_account_id: act_1234567890
access_token: \${META_ACCESS_TOKEN}   # unset is fine in a sandbox target
api_version: v21.0
`,
  '.gitignore': `*.duckdb
*.duckdb.wal
.audsync/
`,
};
