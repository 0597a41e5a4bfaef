// Identifier kinds a model can map to its columns (contract.md, models/<name>.yml `identifiers:`).
export const IDENTIFIER_KINDS = [
  'email',
  'phone',
  'first_name',
  'last_name',
  'zip',
  'city',
  'state',
  'country',
  'maid',
  'external_id',
] as const;

export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

/**
 * How a platform takes one identifier kind.
 * - role 'match': the platform matches people on it alone; it is reference-counted across members
 *   (added when its first member arrives, removed when its last leaves).
 * - role 'attribute': rides along with match keys (names, zip, country) and is never sent alone.
 * - normalizer: name of the SQL normalization rule applied in the warehouse (see warehouse/sql/normalize.ts).
 * - encoding: 'sha256' hex, or 'plain' where the platform requires the normalized value as is.
 */
export interface IdentifierRule {
  role: 'match' | 'attribute';
  normalizer: string;
  encoding: 'sha256' | 'plain';
}

/** One member's identifiers as sent: sha256 hex or the plain normalized value, per the platform's rule. */
export type HashedRow = Partial<Record<IdentifierKind, string>>;
