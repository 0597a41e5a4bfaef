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
 * - role 'attribute': rides along with match keys (names, zip, country) and is never sent alone; or,
 *   where the platform declares an address (AddressRule), it is one of the address's parts.
 * - normalizer: name of the SQL normalization rule applied in the warehouse (see warehouse/sql/normalize.ts).
 * - encoding: 'sha256' hex, or 'plain' where the platform requires the normalized value as is.
 */
export interface IdentifierRule {
  role: 'match' | 'attribute';
  normalizer: string;
  encoding: 'sha256' | 'plain';
}

/**
 * An identifier made of several kinds that the platform matches only together, as one: Google's
 * address (hashed given and family names, region code and postal code in plain text). It is
 * reference-counted like a match kind: added when its first member arrives, removed (all parts
 * together) when its last member leaves, replaced when any part changes. The snapshot keeps it as
 * sent, in `address_key` (see docs/identity.md, "Google addresses and the snapshot").
 */
export interface AddressRule {
  /**
   * The kinds it is made of, in the order of its key: the parts joined by '|'. Every part but the
   * last must have a fixed width as sent (a SHA-256, a two-letter region code), so the key can be
   * split by position whatever the last part (a free-text postal code) holds.
   */
  parts: IdentifierKind[];
}

/** One member's identifiers as sent: sha256 hex or the plain normalized value, per the platform's rule. */
export type HashedRow = Partial<Record<IdentifierKind, string>>;
