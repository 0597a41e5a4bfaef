// Every pg error becomes a WarehouseError whose text holds no row data and no credential. Postgres
// DETAIL lines quote failing rows and key values; scrubEngineMessage keeps only what our SQL names.
// The driver's error is not kept as `cause`, so nothing that logs causes can print its detail.
import { WarehouseError } from '../../core/errors.js';
import { scrubEngineMessage } from '../scrub.js';
import type { PostgresConfig } from './config.js';
import { hideCredentials } from './connection.js';

interface PgError {
  message?: string;
  code?: string;
  detail?: string;
  hint?: string;
  // Names the server reports apart from the text: identifiers, never row data.
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
}

export function sqlError(error: unknown, sql: string, config: PostgresConfig): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const e = (error ?? {}) as PgError;
  // A quoted name survives scrubbing when the SQL or the error's own name fields hold it, so a
  // constraint named only by the server ("strict_rows_key") is kept, and a quoted value is not.
  const names = [e.schema, e.table, e.column, e.constraint, e.dataType].filter(Boolean).join('\n');
  const clean = (text: string) => scrubEngineMessage(hideCredentials(text, config), `${sql}\n${names}`);
  const text = e.message ?? String(error);
  const detail = e.detail ? ` (${e.detail})` : '';
  const state = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` [SQLSTATE ${e.code}]` : '';
  return new WarehouseError('postgres', clean(`${text}${detail}`) + state, e.hint ? { hint: clean(e.hint) } : {});
}
