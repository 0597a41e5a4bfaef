-- The demo "warehouse": three CSV exports from Northbound Coffee's CRM (see demo/README.md),
-- exposed as views in a `crm` schema. audsync.yml names this file as the DuckDB target's
-- init_sql, so it runs on every connection; paths are relative to the project directory.
--
-- Column types are spelled out rather than sniffed, so that phone numbers and postal codes stay
-- text (a sniffer would turn '02134' into 2134 and '+44 20 7946 0958' into an error), booleans and
-- timestamps parse the same way every time, and a quoted empty string ("") stays an empty string
-- instead of becoming NULL, as it would in the export's source system.

CREATE SCHEMA IF NOT EXISTS crm;

CREATE OR REPLACE VIEW crm.customers AS
SELECT * FROM read_csv('demo/data/customers.csv',
  header = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false,
  timestampformat = '%Y-%m-%d %H:%M:%S',
  columns = {
    'customer_id': 'VARCHAR',
    'email': 'VARCHAR',
    'phone': 'VARCHAR',
    'first_name': 'VARCHAR',
    'last_name': 'VARCHAR',
    'postal_code': 'VARCHAR',
    'country_code': 'VARCHAR',
    'ads_consent': 'BOOLEAN',
    'created_at': 'TIMESTAMP',
    'updated_at': 'TIMESTAMP'
  });

CREATE OR REPLACE VIEW crm.orders AS
SELECT * FROM read_csv('demo/data/orders.csv',
  header = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false,
  timestampformat = '%Y-%m-%d %H:%M:%S',
  columns = {
    'order_id': 'VARCHAR',
    'customer_id': 'VARCHAR',
    'ordered_at': 'TIMESTAMP',
    'amount_usd': 'DECIMAL(10, 2)',
    'returned': 'BOOLEAN'
  });

CREATE OR REPLACE VIEW crm.subscriptions AS
SELECT * FROM read_csv('demo/data/subscriptions.csv',
  header = true, delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false,
  timestampformat = '%Y-%m-%d %H:%M:%S',
  columns = {
    'subscription_id': 'VARCHAR',
    'customer_id': 'VARCHAR',
    'plan': 'VARCHAR',
    'trial_started_at': 'TIMESTAMP',
    'trial_ends_at': 'TIMESTAMP',
    'converted_at': 'TIMESTAMP',
    'cancelled_at': 'TIMESTAMP',
    'cancel_reason': 'VARCHAR'
  });
