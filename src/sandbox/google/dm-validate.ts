// The Data Manager request bodies, checked against the discovery document (revision 20260321):
// exactly its field names (an unknown name is refused as Google's JSON parser refuses it), its
// enums, and its limits: at most 10 destinations and 10,000 members per request, 10 identifiers
// per member, one identifier per UserIdentifier, encoding required, accepted terms on ingest.
// Problems with members are collected, each at its field path; Google names them all and then
// refuses the whole request (its "fast-fail" model).
import { dmInvalid, invalidJson, type FieldViolation } from './errors.js';
import { array, checkKeys, enumValue, object, optionalBool, typeError, type Json } from './json-shape.js';
import type { StoredIdentifier } from './state.js';

export const MAX_DESTINATIONS = 10;
export const MAX_MEMBERS = 10_000;
export const MAX_IDENTIFIERS_PER_MEMBER = 10;

const KEYS = {
  ingest: ['audienceMembers', 'consent', 'destinations', 'encoding', 'encryptionInfo', 'termsOfService', 'validateOnly'],
  remove: ['audienceMembers', 'destinations', 'encoding', 'encryptionInfo', 'validateOnly'],
  remove_all: ['destinations', 'removeAsOfTime', 'validateOnly'],
  destination: ['linkedAccount', 'loginAccount', 'operatingAccount', 'productDestinationId', 'reference'],
  account: ['accountId', 'accountType', 'product'],
  member: ['consent', 'destinationReferences', 'mobileData', 'pairData', 'ppidData', 'userData', 'userIdData'],
  userData: ['userIdentifiers'],
  identifier: ['address', 'emailAddress', 'phoneNumber'],
  address: ['familyName', 'givenName', 'postalCode', 'regionCode'],
  consent: ['adPersonalization', 'adUserData'],
  terms: ['customerMatchTermsOfServiceStatus'],
};
const ACCOUNT_TYPES = ['ACCOUNT_TYPE_UNSPECIFIED', 'GOOGLE_ADS', 'DISPLAY_VIDEO_PARTNER', 'DISPLAY_VIDEO_ADVERTISER', 'DATA_PARTNER', 'GOOGLE_ANALYTICS_PROPERTY', 'GOOGLE_AD_MANAGER_AUDIENCE_LINK'];
const PRODUCTS = ['PRODUCT_UNSPECIFIED', 'GOOGLE_ADS', 'DISPLAY_VIDEO_PARTNER', 'DISPLAY_VIDEO_ADVERTISER', 'DATA_PARTNER'];
const ENCODINGS = ['ENCODING_UNSPECIFIED', 'HEX', 'BASE64'];
const CONSENT = ['CONSENT_STATUS_UNSPECIFIED', 'CONSENT_GRANTED', 'CONSENT_DENIED'];
const TERMS = ['TERMS_OF_SERVICE_STATUS_UNSPECIFIED', 'ACCEPTED', 'REJECTED'];

export type DmOpName = 'ingest' | 'remove' | 'remove_all';

export interface DmDestination {
  customerId: string;
  listId: string;
  loginAccountId?: string;
  /** Where it sits in the request, for field paths. */
  path: string;
  reference?: string;
}

export interface DmRequestBody {
  destinations: DmDestination[];
  members: StoredIdentifier[][];
  identifierCount: number;
  validateOnly: boolean;
  removeAsOf?: number;
  /** Problems of members, to answer after the destinations are checked. */
  violations: FieldViolation[];
}

export function validateDmBody(body: Json, op: DmOpName, now: number): DmRequestBody {
  checkKeys(body, KEYS[op], '');
  const validateOnly = optionalBool(body.validateOnly, 'validate_only');
  const destinations = validateDestinations(body.destinations);
  const result: DmRequestBody = { destinations, members: [], identifierCount: 0, validateOnly, violations: [] };

  if (op === 'remove_all') {
    if (body.removeAsOfTime !== undefined) {
      const time = typeof body.removeAsOfTime === 'string' ? Date.parse(body.removeAsOfTime) : NaN;
      if (Number.isNaN(time)) throw invalidJson("Invalid value at 'remove_as_of_time' (type.googleapis.com/google.protobuf.Timestamp): use RFC 3339", 'remove_as_of_time');
      if (time > now) throw dmInvalid([{ field: 'remove_as_of_time', description: 'The remove as of time must not be in the future.', reason: 'INVALID_ARGUMENT' }]);
      result.removeAsOf = time;
    }
    return result;
  }

  const encoding = enumValue(body.encoding, ENCODINGS, 'encoding', 'Encoding');
  if (encoding === undefined || encoding === 'ENCODING_UNSPECIFIED') {
    throw dmInvalid([{ field: 'encoding', description: 'The encoding is required for UserData uploads: HEX or BASE64.', reason: 'REQUIRED_FIELD_MISSING' }]);
  }
  if (body.encryptionInfo !== undefined) {
    throw dmInvalid([{ field: 'encryption_info', description: 'The sandbox takes hashed, unencrypted identifiers only.', reason: 'INVALID_ARGUMENT' }]);
  }
  if (op === 'ingest') {
    validateTerms(body.termsOfService);
    if (body.consent !== undefined) consent(body.consent, 'consent');
  }

  if (body.audienceMembers === undefined || (Array.isArray(body.audienceMembers) && body.audienceMembers.length === 0)) {
    throw dmInvalid([{ field: 'audience_members', description: 'At least one audience member is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
  }
  const members = array(body.audienceMembers, 'audience_members');
  if (members.length > MAX_MEMBERS) {
    throw dmInvalid([{ field: 'audience_members', description: `The maximum number of audience members allowed per request is ${MAX_MEMBERS}.`, reason: 'TOO_MANY_AUDIENCE_MEMBERS' }]);
  }
  const references = new Set(destinations.flatMap((d) => (d.reference ? [d.reference] : [])));
  members.forEach((member, i) => {
    const identifiers = validateMember(member, `audience_members[${i}]`, encoding as 'HEX' | 'BASE64', references, result.violations);
    result.members.push(identifiers);
    result.identifierCount += identifiers.length;
  });
  return result;
}

function validateDestinations(value: unknown): DmDestination[] {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw dmInvalid([{ field: 'destinations', description: 'At least one destination is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
  }
  const list = array(value, 'destinations');
  if (list.length > MAX_DESTINATIONS) {
    throw dmInvalid([{ field: 'destinations', description: `The maximum number of destinations allowed per request is ${MAX_DESTINATIONS}.`, reason: 'TOO_MANY_DESTINATIONS' }]);
  }
  return list.map((raw, i) => {
    const path = `destinations[${i}]`;
    const d = object(raw, path);
    checkKeys(d, KEYS.destination, path);
    if (d.operatingAccount === undefined) throw dmInvalid([{ field: `${path}.operating_account`, description: 'The operating account is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
    const customerId = account(d.operatingAccount, `${path}.operating_account`);
    const loginAccountId = d.loginAccount === undefined ? undefined : account(d.loginAccount, `${path}.login_account`);
    if (d.linkedAccount !== undefined) throw dmInvalid([{ field: `${path}.linked_account`, description: 'The sandbox does not simulate linked accounts.', reason: 'INVALID_DESTINATION' }]);
    const listId = d.productDestinationId;
    if (typeof listId !== 'string' || listId === '') {
      throw dmInvalid([{ field: `${path}.product_destination_id`, description: 'The product destination id (the user list id) is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
    }
    if (d.reference !== undefined && typeof d.reference !== 'string') throw typeError(`${path}.reference`, 'TYPE_STRING');
    return { customerId, listId, loginAccountId, path, reference: typeof d.reference === 'string' ? d.reference : undefined };
  });
}

function account(raw: unknown, path: string): string {
  const a = object(raw, path);
  checkKeys(a, KEYS.account, path);
  const type = enumValue(a.accountType, ACCOUNT_TYPES, `${path}.account_type`, 'ProductAccount.AccountType');
  const product = enumValue(a.product, PRODUCTS, `${path}.product`, 'ProductAccount.Product');
  const effective = type && type !== 'ACCOUNT_TYPE_UNSPECIFIED' ? type : product && product !== 'PRODUCT_UNSPECIFIED' ? product : undefined;
  if (!effective) throw dmInvalid([{ field: `${path}.account_type`, description: 'The account type is required.', reason: 'REQUIRED_FIELD_MISSING' }]);
  if (type && product && type !== 'ACCOUNT_TYPE_UNSPECIFIED' && product !== 'PRODUCT_UNSPECIFIED' && type !== product) {
    throw dmInvalid([{ field: `${path}.product`, description: 'account_type and product must match.', reason: 'INVALID_ARGUMENT' }]);
  }
  if (effective !== 'GOOGLE_ADS') throw dmInvalid([{ field: `${path}.account_type`, description: 'The sandbox simulates Google Ads accounts only.', reason: 'INVALID_DESTINATION' }]);
  if (typeof a.accountId !== 'string' || !/^\d{10}$/.test(a.accountId)) {
    throw dmInvalid([{ field: `${path}.account_id`, description: 'The account id must be a Google Ads customer id: ten digits without hyphens.', reason: 'INVALID_FORMAT' }]);
  }
  return a.accountId;
}

function validateTerms(raw: unknown): void {
  if (raw === undefined) {
    throw dmInvalid([{ field: 'terms_of_service', description: 'The Customer Match terms of service must be accepted to ingest user data.', reason: 'REQUIRED_FIELD_MISSING' }]);
  }
  const terms = object(raw, 'terms_of_service');
  checkKeys(terms, KEYS.terms, 'terms_of_service');
  const status = enumValue(terms.customerMatchTermsOfServiceStatus, TERMS, 'terms_of_service.customer_match_terms_of_service_status', 'TermsOfServiceStatus');
  if (status !== 'ACCEPTED') {
    throw dmInvalid(
      [{ field: 'terms_of_service.customer_match_terms_of_service_status', description: 'The Customer Match terms of service must be accepted to ingest user data.', reason: 'TERMS_AND_CONDITIONS_NOT_SIGNED' }],
      'TERMS_AND_CONDITIONS_NOT_SIGNED',
    );
  }
}

function consent(raw: unknown, path: string): void {
  const c = object(raw, path);
  checkKeys(c, KEYS.consent, path);
  enumValue(c.adUserData, CONSENT, `${path}.ad_user_data`, 'ConsentStatus');
  enumValue(c.adPersonalization, CONSENT, `${path}.ad_personalization`, 'ConsentStatus');
}

function validateMember(raw: unknown, path: string, encoding: 'HEX' | 'BASE64', references: Set<string>, out: FieldViolation[]): StoredIdentifier[] {
  const member = object(raw, path);
  checkKeys(member, KEYS.member, path);
  if (member.consent !== undefined) consent(member.consent, `${path}.consent`);
  if (member.destinationReferences !== undefined) {
    for (const [j, ref] of array(member.destinationReferences, `${path}.destination_references`).entries()) {
      if (typeof ref !== 'string' || !references.has(ref)) {
        out.push({ field: `${path}.destination_references[${j}]`, description: 'The destination reference does not name a destination of the request.', reason: 'INVALID_ARGUMENT' });
      }
    }
  }
  if (member.userData === undefined) {
    const other = ['mobileData', 'pairData', 'ppidData', 'userIdData'].some((k) => member[k] !== undefined);
    out.push(
      other
        ? { field: path, description: 'The sandbox simulates user_data (email, phone, address) members only.', reason: 'INVALID_AUDIENCE_MEMBER' }
        : { field: `${path}.user_data`, description: 'The audience member has no data.', reason: 'REQUIRED_FIELD_MISSING' },
    );
    return [];
  }
  const userData = object(member.userData, `${path}.user_data`);
  checkKeys(userData, KEYS.userData, `${path}.user_data`);
  const idsPath = `${path}.user_data.user_identifiers`;
  const ids = userData.userIdentifiers === undefined ? [] : array(userData.userIdentifiers, idsPath);
  if (ids.length === 0) {
    out.push({ field: idsPath, description: 'At least one user identifier is required.', reason: 'REQUIRED_FIELD_MISSING' });
    return [];
  }
  if (ids.length > MAX_IDENTIFIERS_PER_MEMBER) {
    out.push({ field: idsPath, description: `The maximum number of user identifiers allowed per audience member is ${MAX_IDENTIFIERS_PER_MEMBER}.`, reason: 'TOO_MANY_USER_IDENTIFIERS' });
    return [];
  }
  const stored: StoredIdentifier[] = [];
  ids.forEach((rawId, j) => {
    const idPath = `${idsPath}[${j}]`;
    const id = object(rawId, idPath);
    checkKeys(id, KEYS.identifier, idPath);
    const set = KEYS.identifier.filter((k) => id[k] !== undefined);
    if (set.length !== 1) {
      out.push({ field: idPath, description: 'A user identifier holds exactly one of email_address, phone_number or address.', reason: 'INVALID_ARGUMENT' });
      return;
    }
    if (id.emailAddress !== undefined) push(stored, 'email', hashed(id.emailAddress, encoding, `${idPath}.email_address`, 'Email', out));
    if (id.phoneNumber !== undefined) push(stored, 'phone', hashed(id.phoneNumber, encoding, `${idPath}.phone_number`, 'Phone number', out));
    if (id.address !== undefined) push(stored, 'address', address(id.address, encoding, `${idPath}.address`, out));
  });
  return stored;
}

function address(raw: unknown, encoding: 'HEX' | 'BASE64', path: string, out: FieldViolation[]): string | undefined {
  const a = object(raw, path);
  checkKeys(a, KEYS.address, path);
  const missing = (['givenName', 'familyName', 'regionCode', 'postalCode'] as const).filter((k) => a[k] === undefined || a[k] === '');
  if (missing.length > 0) {
    out.push({ field: path, description: 'An address needs given_name, family_name, region_code and postal_code.', reason: 'REQUIRED_FIELD_MISSING' });
    return undefined;
  }
  const given = hashed(a.givenName, encoding, `${path}.given_name`, 'Given name', out);
  const family = hashed(a.familyName, encoding, `${path}.family_name`, 'Family name', out);
  const region = a.regionCode;
  const postal = a.postalCode;
  let ok = given !== undefined && family !== undefined;
  if (typeof region !== 'string' || !/^[A-Z]{2}$/.test(region)) {
    out.push({ field: `${path}.region_code`, description: 'The region code must be an ISO 3166-1 alpha-2 code in upper case, not hashed.', reason: 'INVALID_FORMAT' });
    ok = false;
  }
  if (typeof postal !== 'string' || postal.trim() === '' || /^[0-9a-fA-F]{64}$/.test(postal)) {
    out.push({ field: `${path}.postal_code`, description: 'The postal code must be sent in plain text, not hashed.', reason: 'INVALID_POSTAL_CODE' });
    ok = false;
  }
  return ok ? [given, family, region, postal].join('|') : undefined;
}

/** A SHA-256 hash in the request's encoding, as the lowercase hex we store. */
function hashed(value: unknown, encoding: 'HEX' | 'BASE64', field: string, what: string, out: FieldViolation[]): string | undefined {
  if (typeof value !== 'string') throw typeError(field, 'TYPE_STRING');
  if (encoding === 'HEX') {
    if (!/^[0-9a-fA-F]+$/.test(value) || value.length % 2 !== 0) return void out.push({ field, description: `${what} is not hex encoded.`, reason: 'INVALID_HEX_ENCODING' });
    // Google decodes either case; the sandbox holds clients to the lowercase hex Google's guides show.
    if (/[A-F]/.test(value)) return void out.push({ field, description: `${what} must be lowercase hex.`, reason: 'INVALID_HEX_ENCODING' });
    if (value.length !== 64) return void out.push({ field, description: `${what} is not a SHA-256 hash.`, reason: 'INVALID_SHA256_FORMAT' });
    return value;
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return void out.push({ field, description: `${what} is not base64 encoded.`, reason: 'INVALID_BASE64_ENCODING' });
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 32) return void out.push({ field, description: `${what} is not a SHA-256 hash.`, reason: 'INVALID_SHA256_FORMAT' });
  return bytes.toString('hex');
}

function push(stored: StoredIdentifier[], type: StoredIdentifier['type'], key: string | undefined): void {
  if (key !== undefined) stored.push({ type, key });
}
