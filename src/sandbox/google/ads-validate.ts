// OfflineUserDataJob operations, checked as the Google Ads API checks them: at most 100,000
// identifiers per addOperations request (the whole request fails) and 20 per operation; one
// identifier per UserIdentifier (a oneof); SHA-256 as 64 lowercase hex; country and postal code in
// plain text; no operation-level consent in a Customer Match job; removeAll only first in a job.
// Each problem is an error located at operations[i]; with partial failure the other operations stand.
import { adsInvalid, operationPath, type AdsError } from './errors.js';
import { checkKeys } from './json-shape.js';
import type { StagedOp, StoredIdentifier } from './state.js';

export const MAX_IDENTIFIERS_PER_REQUEST = 100_000;
export const MAX_IDENTIFIERS_PER_OPERATION = 20;
const LIMIT_MESSAGE = 'Maximum number of user identifiers allowed per request is 100,000 and per operation is 20.';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const IDENTIFIER_KEYS = ['hashedEmail', 'hashedPhoneNumber', 'addressInfo', 'mobileId', 'thirdPartyUserId'];
const ADDRESS_KEYS = ['hashedFirstName', 'hashedLastName', 'countryCode', 'postalCode', 'city', 'state', 'hashedStreetAddress'];

export interface CheckedOperations {
  /** Per operation: what to stage, or undefined when it failed. */
  ops: (StagedOp | undefined)[];
  errors: AdsError[];
  identifiers: number;
}

export function checkOperations(version: string, body: Record<string, unknown>, jobHasOperations: boolean): CheckedOperations {
  checkKeys(body, ['operations', 'enablePartialFailure', 'enableWarnings', 'validateOnly'], '');
  const operations = body.operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw adsInvalid(version, [{ errorCode: { fieldError: 'REQUIRED' }, message: 'The required field operations was not present.' }]);
  }
  const identifiers = operations.reduce<number>((n, op) => n + identifierCount(op), 0);
  if (identifiers > MAX_IDENTIFIERS_PER_REQUEST) {
    throw adsInvalid(version, [{ errorCode: { offlineUserDataJobError: 'TOO_MANY_USER_IDENTIFIERS' }, message: LIMIT_MESSAGE }]);
  }
  const errors: AdsError[] = [];
  const ops = operations.map((raw, i) => {
    const fail = (code: Record<string, string>, message: string, ...rest: { fieldName: string; index?: number }[]) => {
      errors.push({ errorCode: code, message, location: operationPath(i, ...rest) });
      return undefined;
    };
    const op = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const kinds = ['create', 'remove', 'removeAll'].filter((k) => op[k] !== undefined);
    if (kinds.length !== 1 || Object.keys(op).length !== 1) return fail({ requestError: 'INVALID_INPUT' }, 'An operation holds exactly one of create, remove or removeAll.');
    if (kinds[0] === 'removeAll') {
      if (op.removeAll !== true) return fail({ fieldError: 'INVALID_VALUE' }, 'removeAll must be true.', { fieldName: 'remove_all' });
      if (i !== 0 || jobHasOperations) return fail({ offlineUserDataJobError: 'INVALID_OPERATION_ORDER' }, 'removeAll must be the first operation of a job.', { fieldName: 'remove_all' });
      return { kind: 'removeAll' } as StagedOp;
    }
    const kind = kinds[0] as 'create' | 'remove';
    const data = op[kind] && typeof op[kind] === 'object' ? (op[kind] as Record<string, unknown>) : {};
    if (data.consent !== undefined) {
      return fail({ offlineUserDataJobError: 'OPERATION_LEVEL_CONSENT_PROVIDED' }, 'Consent is set on the job for Customer Match; operation-level consent is not allowed.', { fieldName: kind }, { fieldName: 'consent' });
    }
    const ids = Array.isArray(data.userIdentifiers) ? data.userIdentifiers : [];
    if (ids.length === 0) return fail({ fieldError: 'REQUIRED' }, 'At least one user identifier is required.', { fieldName: kind }, { fieldName: 'user_identifiers' });
    if (ids.length > MAX_IDENTIFIERS_PER_OPERATION) {
      return fail({ offlineUserDataJobError: 'TOO_MANY_USER_IDENTIFIERS' }, LIMIT_MESSAGE, { fieldName: kind }, { fieldName: 'user_identifiers' });
    }
    const stored: StoredIdentifier[] = [];
    for (const [j, rawId] of ids.entries()) {
      const at = (fieldName: string) => [{ fieldName: kind }, { fieldName: 'user_identifiers', index: j }, { fieldName }];
      const result = identifier(rawId);
      if ('error' in result) return fail(result.error.code, result.error.message, ...at(result.error.field));
      stored.push(result);
    }
    return { kind, identifiers: stored } as StagedOp;
  });
  return { ops, errors, identifiers };
}

type IdentifierResult = StoredIdentifier | { error: { code: Record<string, string>; message: string; field: string } };

function identifier(raw: unknown): IdentifierResult {
  const id = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const set = IDENTIFIER_KEYS.filter((k) => id[k] !== undefined);
  if (set.length !== 1) return { error: { code: { fieldError: 'ONEOF_ALREADY_SET' }, message: 'A UserIdentifier holds exactly one identifier.', field: 'identifier' } };
  const key = set[0]!;
  if (key === 'mobileId' || key === 'thirdPartyUserId') {
    return { error: { code: { offlineUserDataJobError: 'INCOMPATIBLE_UPLOAD_KEY_TYPE' }, message: 'The user list takes contact information only.', field: snake(key) } };
  }
  if (key === 'hashedEmail' || key === 'hashedPhoneNumber') {
    const value = id[key];
    if (typeof value !== 'string' || !SHA256_HEX.test(value)) return { error: { code: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' }, message: 'The SHA256 encoded value is malformed.', field: snake(key) } };
    return { type: key === 'hashedEmail' ? 'email' : 'phone', key: value };
  }
  const a = id.addressInfo && typeof id.addressInfo === 'object' ? (id.addressInfo as Record<string, unknown>) : {};
  const unknown = Object.keys(a).find((k) => !ADDRESS_KEYS.includes(k));
  if (unknown) return { error: { code: { fieldError: 'INVALID_VALUE' }, message: `Unknown address field ${unknown.slice(0, 40)}.`, field: 'address_info' } };
  for (const part of ['hashedFirstName', 'hashedLastName', 'countryCode', 'postalCode']) {
    if (typeof a[part] !== 'string' || a[part] === '') {
      return { error: { code: { fieldError: 'REQUIRED' }, message: 'An address needs hashed first and last names, a country code and a postal code.', field: snake(part) } };
    }
  }
  for (const part of ['hashedFirstName', 'hashedLastName']) {
    if (!SHA256_HEX.test(a[part] as string)) return { error: { code: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' }, message: 'The SHA256 encoded value is malformed.', field: snake(part) } };
  }
  if (!/^[A-Z]{2}$/.test(a.countryCode as string)) {
    return { error: { code: { offlineUserDataJobError: 'INVALID_COUNTRY_CODE' }, message: 'The country code must be ISO 3166-1 alpha-2, upper case, not hashed.', field: 'country_code' } };
  }
  if (SHA256_HEX.test(a.postalCode as string)) {
    return { error: { code: { offlineUserDataJobError: 'INVALID_POSTAL_CODE' }, message: 'The postal code must be sent in plain text.', field: 'postal_code' } };
  }
  return { type: 'address', key: [a.hashedFirstName, a.hashedLastName, a.countryCode, a.postalCode].join('|') };
}

function identifierCount(op: unknown): number {
  if (!op || typeof op !== 'object') return 0;
  const data = ((op as Record<string, unknown>).create ?? (op as Record<string, unknown>).remove) as { userIdentifiers?: unknown } | undefined;
  return Array.isArray(data?.userIdentifiers) ? data.userIdentifiers.length : 0;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
