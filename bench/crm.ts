// The synthetic CRM, generated and changed in SQL (DuckDB's range()), never row by row in JS.
// Columns as a CRM export has them: messy case and whitespace in emails, phones in several national
// and international formats, names from a small pool, US ZIP and ZIP+4, UK postcodes, country
// codes in several spellings, consent TRUE / FALSE / NULL. About 1% of members share a household
// email, so reference counting of shared identifiers is exercised too.

const FIRST = ['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Chloé', 'José', 'Zoë', "O'Neil", 'Anne-Marie', 'Björn', 'Łukasz', 'Siobhán', 'Mohammed', 'Wei', 'Yuki', 'Priya', 'Olga', 'Ahmed', 'Fatima', 'Lars', 'Ingrid', 'Pierre', 'Sophie', 'Hans'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Pérez', 'Thompson', 'White', 'Harris', 'Sánchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', "O'Brien", 'Müller', 'Schmidt', 'Dubois', 'Rossi', 'Nguyen', 'Kim', 'Singh', 'Van der Berg', 'Kowalski'];
const DOMAINS = ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com', 'aol.com', 'proton.me', 'gmx.de', 'orange.fr', 'example.co.uk'];

const list = (values: string[]) => `[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;

/** One customer per i in [from, to): deterministic in i and `salt` (a salt changes every value). */
export function customersSelect(from: number, to: number, salt = 'crm'): string {
  return `WITH t AS (SELECT i, hash(i, '${salt}') AS h FROM range(${from}, ${to}) r(i)),
u AS (
  SELECT i, h,
    ${list(FIRST)}[1 + (h % ${FIRST.length})::INTEGER] AS fn,
    ${list(LAST)}[1 + ((h >> 8) % ${LAST.length})::INTEGER] AS ln,
    ((h >> 16) % 100)::INTEGER AS c,   -- country bucket
    ((h >> 24) % 100)::INTEGER AS e,   -- email bucket
    ((h >> 32) % 100)::INTEGER AS p,   -- phone bucket
    ((h >> 40) % 100)::INTEGER AS k    -- consent bucket
  FROM t
)
SELECT
  i AS customer_id,
  CASE
    WHEN e < 4 THEN NULL
    WHEN e < 5 THEN 'n/a'
    WHEN e < 6 THEN 'family' || (i // 2) || '@example.net'
    ELSE (CASE WHEN e % 7 = 0 THEN '  ' ELSE '' END)
      || (CASE WHEN e % 5 = 0 THEN upper(fn) ELSE lower(fn) END) || '.' || lower(ln) || i
      || '@' || ${list(DOMAINS)}[1 + ((h >> 48) % ${DOMAINS.length})::INTEGER]
      || (CASE WHEN e % 11 = 0 THEN ' ' ELSE '' END)
  END AS email,
  CASE
    WHEN p < 35 THEN NULL
    WHEN c >= 80 AND c < 88 THEN '+44 20 ' || lpad(((i * 7919) % 10000000)::VARCHAR, 8, '0')
    WHEN c >= 88 AND c < 92 THEN '030 ' || lpad(((i * 7919) % 10000000)::VARCHAR, 8, '0')
    WHEN p < 55 THEN '(' || (201 + (i // 10000000) % 700) || ') ' || (200 + (i // 10000) % 800) || '-' || lpad((i % 10000)::VARCHAR, 4, '0')
    WHEN p < 75 THEN '+1 ' || (201 + (i // 10000000) % 700) || '.' || (200 + (i // 10000) % 800) || '.' || lpad((i % 10000)::VARCHAR, 4, '0')
    WHEN p < 90 THEN (201 + (i // 10000000) % 700) || (200 + (i // 10000) % 800) || lpad((i % 10000)::VARCHAR, 4, '0')
    ELSE '1-' || (201 + (i // 10000000) % 700) || '-' || (200 + (i // 10000) % 800) || '-' || lpad((i % 10000)::VARCHAR, 4, '0') || ' ext. 12'
  END AS phone,
  CASE WHEN k % 13 = 0 THEN upper(fn) WHEN k % 17 = 0 THEN ' ' || fn ELSE fn END AS first_name,
  ln AS last_name,
  CASE
    WHEN c >= 80 AND c < 88 THEN 'SW1A ' || (h % 10)::VARCHAR || 'AA'
    WHEN c % 9 = 0 THEN lpad(((h >> 20) % 100000)::VARCHAR, 5, '0') || '-' || lpad(((h >> 4) % 10000)::VARCHAR, 4, '0')
    ELSE lpad(((h >> 20) % 100000)::VARCHAR, 5, '0')
  END AS zip,
  CASE
    WHEN c < 70 THEN 'US'
    WHEN c < 75 THEN ' us'
    WHEN c < 78 THEN 'USA'
    WHEN c < 80 THEN NULL
    WHEN c < 86 THEN 'GB'
    WHEN c < 88 THEN 'UK'
    WHEN c < 92 THEN 'DE'
    WHEN c < 96 THEN 'CA'
    ELSE 'FR'
  END AS country,
  CASE WHEN k < 92 THEN TRUE WHEN k < 97 THEN FALSE ELSE NULL END AS ads_consent,
  TIMESTAMP '2025-01-01' + to_seconds((h % 31536000)::BIGINT) AS updated_at
FROM u`;
}

export function createCrmSql(members: number): string[] {
  return [
    'CREATE SCHEMA IF NOT EXISTS crm',
    `CREATE OR REPLACE TABLE crm.customers AS ${customersSelect(0, members)}`,
  ];
}

/**
 * The churn between two runs: 1% of members leave, 0.5% change an identifier (email for most,
 * phone for some), 1% join with ids above the current maximum. `round` salts which members.
 */
export function churnSql(members: number, nextId: number, round: number): string[] {
  const pct = (share: number, tag: string) => `hash(customer_id, 'churn${round}-${tag}') % 10000 < ${Math.round(share * 10000)}`;
  return [
    `DELETE FROM crm.customers WHERE ${pct(0.01, 'remove')}`,
    `UPDATE crm.customers SET email = 'moved.' || customer_id || '@example.org' WHERE ${pct(0.004, 'email')}`,
    `UPDATE crm.customers SET phone = '+1 (646) 555-' || lpad((customer_id % 10000)::VARCHAR, 4, '0') WHERE ${pct(0.001, 'phone')}`,
    `INSERT INTO crm.customers ${customersSelect(nextId, nextId + Math.round(members * 0.01), `crm-add${round}`)}`,
  ];
}

/** The model: every customer, consent enforced by audsync; the identifiers Meta takes from a CRM. */
export const MODEL_SQL = `SELECT customer_id, email, phone, first_name, last_name, zip, country, ads_consent, updated_at
FROM crm.customers`;

export const MODEL_COLUMNS = ['email', 'phone', 'first_name', 'last_name', 'zip', 'country', 'ads_consent'];
