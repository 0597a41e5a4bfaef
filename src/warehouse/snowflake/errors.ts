// Every Snowflake error becomes a WarehouseError with Snowflake's own words, scrubbed of row data
// (a value quoted by a conversion error); only the message is kept, never the SDK's error object,
// whose response carries the request.
import { WarehouseError } from '../../core/errors.js';
import { scrubEngineMessage } from '../scrub.js';

const HINTS: [RegExp, string][] = [
  [/incorrect username or password|jwt token is invalid|authentication|private key/i, 'check username:, and password: or the key pair (private_key / private_key_path and its passphrase) in the target'],
  [/no active warehouse/i, 'set warehouse: in the target, or give the user a default warehouse'],
  [/does not exist or not authorized/i, 'check database:, schema: and role: in the target, and the role\'s grants'],
  [/current database/i, 'set database: (and schema:) in the target: temporary tables are created there'],
];

export function snowflakeError(error: unknown, sql: string): WarehouseError {
  if (error instanceof WarehouseError) return error;
  const e = (error ?? {}) as { message?: string; sqlState?: string };
  const message = e.message ?? String(error);
  const state = e.sqlState && /^[0-9A-Z]{5}$/.test(e.sqlState) ? ` [SQLSTATE ${e.sqlState}]` : '';
  const hint = HINTS.find(([pattern]) => pattern.test(message))?.[1];
  return new WarehouseError('snowflake', scrubEngineMessage(message, sql) + state, hint ? { hint } : {});
}
