// Rows as Meta's multi-key payload: a schema (one key per identifier kind, in the sync's order) and
// rows as arrays in that order, a missing value as "" (Meta matches on the fields present).
import type { HashedRow, IdentifierKind } from '../../core/identifiers.js';
import type { JsonText } from '../http/json-text.js';

export const META_SCHEMA_KEYS: Record<IdentifierKind, string> = {
  email: 'EMAIL',
  phone: 'PHONE',
  first_name: 'FN',
  last_name: 'LN',
  zip: 'ZIP',
  city: 'CT',
  state: 'ST',
  country: 'COUNTRY',
  maid: 'MADID',
  external_id: 'EXTERN_ID',
};

export interface MetaPayload {
  schema: string[];
  is_raw: true; // required with a multi-key schema; the values are hashed, "raw" means not pre-matched
  data: string[][];
}

/** The payload's schema: one key per kind, in the sync's order, each once. */
function schemaOf(kinds: IdentifierKind[]): string[] {
  if (new Set(kinds).size !== kinds.length) throw new Error(`identifier kinds repeat in a Meta batch: ${kinds.join(', ')}`);
  return kinds.map((kind) => META_SCHEMA_KEYS[kind]);
}

export function buildPayload(kinds: IdentifierKind[], rows: HashedRow[]): MetaPayload {
  return {
    schema: schemaOf(kinds),
    is_raw: true,
    data: rows.map((row) => kinds.map((kind) => row[kind] ?? '')),
  };
}

/**
 * The payload as pieces of JSON text around the rows the warehouse already wrote as a JSON array of
 * arrays (rowEncoding 'json_array'), left as they came (text or bytes) for the body to join once.
 */
export function encodedPayloadJson(kinds: IdentifierKind[], rowsJson: JsonText): JsonText[] {
  return [`{"schema":${JSON.stringify(schemaOf(kinds))},"is_raw":true,"data":`, rowsJson, '}'];
}
