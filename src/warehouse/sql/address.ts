// A platform's address (Google: hashed given and family names, region code and postal code in plain
// text) as one identifier in SQL. Two forms of it:
//   - the key: the four parts as sent, joined by '|' (`<sha256>|<sha256>|US|94105`). What a removal
//     sends, so the snapshot keeps it in `address_key` (migration 4): the postal code and region
//     code cannot be recovered from their hashes once the source row is gone or has changed.
//   - the reference: the four parts as the snapshot's per-kind columns keep them (hashes, the plain
//     parts hashed too), joined by '|'. Equal exactly when the keys are equal, and known for every
//     snapshot row, also those written before address_key existed, so reference counting (which
//     member still holds an address) needs neither the key nor the source.
// Decision: storing the key puts the region and postal code in the snapshot in plain text, the one
// exception to "no raw identifier in the state and audit tables". They are what Google receives in
// plain text anyway, a coarse location rather than a direct identifier, and their hashes (zip_hash,
// country_hash) never hid them (a country's postal codes are few enough to hash them all); names
// stay hashed. The alternatives (the source row, which is gone exactly when a removal matters;
// encryption, which the four engines share no function for) are weighed in docs/identity.md,
// "Google addresses and the snapshot", with what happens to snapshots from older versions.
import type { AddressRule, IdentifierKind, IdentifierRule } from '../../core/identifiers.js';
import type { SqlDialect } from './dialect.js';
import { snapshotColumn } from './names.js';

export const SEPARATOR = '|';

export interface AddressPart {
  kind: IdentifierKind;
  rule: IdentifierRule;
  /** 1-based position of the part in the key. */
  start: number;
  /** Its width, or undefined for the last part, which runs to the end of the key. */
  width?: number;
}

/** Width of a part as sent: a SHA-256 is 64 hex digits, a region code 2 letters; others vary. */
function widthOf(rule: IdentifierRule): number | undefined {
  if (rule.encoding === 'sha256') return 64;
  if (rule.normalizer === 'country_upper' || rule.normalizer === 'country_lower') return 2;
  return undefined;
}

/** The parts with their positions in the key; throws where a part but the last has no fixed width. */
export function addressLayout(address: AddressRule, identifiers: { kind: IdentifierKind; rule: IdentifierRule }[]): AddressPart[] {
  let start = 1;
  return address.parts.map((kind, i) => {
    const rule = identifiers.find((id) => id.kind === kind)?.rule;
    if (!rule) throw new Error(`address part '${kind}' is not an identifier this sync sends`);
    const last = i === address.parts.length - 1;
    const width = last ? undefined : widthOf(rule);
    if (!last && width === undefined) throw new Error(`address part '${kind}' has no fixed width, so it must be the last part of the key`);
    const part = { kind, rule, start, width };
    start += (width ?? 0) + SEPARATOR.length;
    return part;
  });
}

/** The parts joined by '|', in parentheses; NULL when any part is NULL (|| is NULL-strict in all four engines). */
export function joinParts(d: SqlDialect, exprs: string[]): string {
  return `(${exprs.join(` || ${d.string(SEPARATOR)} || `)})`;
}

/** The reference of a snapshot row (alias.<kind>_hash columns). */
export function snapshotReference(d: SqlDialect, parts: AddressPart[], alias: string): string {
  return joinParts(d, parts.map((p) => `${alias}.${snapshotColumn(p.kind)}`));
}

/** One part of a key, read by position. */
export function partOfKey(key: string, part: AddressPart): string {
  return part.width === undefined ? `substr(${key}, ${part.start})` : `substr(${key}, ${part.start}, ${part.width})`;
}
