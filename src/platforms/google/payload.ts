// Rows as Google's identifiers. A member is one email, one phone and one address at most; the
// address only when given name, family name, region and postal code are all there, since Google
// matches the four together and refuses an address missing any of them.
import type { HashedRow } from '../../core/identifiers.js';
import type { ConsentSetting } from './config.js';

/** Consent as destinations and (when the runner maps them) model columns give it. */
export interface MemberConsent {
  ad_user_data?: ConsentSetting;
  ad_personalization?: ConsentSetting;
}

// ---- Data Manager (schemas UserIdentifier, AddressInfo, Consent of the discovery document) ----

export type DmUserIdentifier =
  | { emailAddress: string }
  | { phoneNumber: string }
  | { address: { givenName: string; familyName: string; regionCode: string; postalCode: string } };

export interface DmConsent {
  adUserData?: string;
  adPersonalization?: string;
}

const DM_CONSENT: Record<ConsentSetting, string> = {
  GRANTED: 'CONSENT_GRANTED',
  DENIED: 'CONSENT_DENIED',
  UNSPECIFIED: 'CONSENT_STATUS_UNSPECIFIED',
};

export function dmUserIdentifiers(row: HashedRow): DmUserIdentifier[] {
  const ids: DmUserIdentifier[] = [];
  if (row.email) ids.push({ emailAddress: row.email });
  if (row.phone) ids.push({ phoneNumber: row.phone });
  const address = completeAddress(row);
  if (address) ids.push({ address: { givenName: address.first, familyName: address.last, regionCode: address.country, postalCode: address.zip } });
  return ids;
}

export function dmConsent(consent: MemberConsent | undefined): DmConsent | undefined {
  if (!consent || (consent.ad_user_data === undefined && consent.ad_personalization === undefined)) return undefined;
  return {
    ...(consent.ad_user_data ? { adUserData: DM_CONSENT[consent.ad_user_data] } : {}),
    ...(consent.ad_personalization ? { adPersonalization: DM_CONSENT[consent.ad_personalization] } : {}),
  };
}

// ---- Google Ads (UserIdentifier is a oneof: one identifier per entry) ----

export type AdsUserIdentifier =
  | { hashedEmail: string }
  | { hashedPhoneNumber: string }
  | { addressInfo: { hashedFirstName: string; hashedLastName: string; countryCode: string; postalCode: string } };

export function adsUserIdentifiers(row: HashedRow): AdsUserIdentifier[] {
  const ids: AdsUserIdentifier[] = [];
  if (row.email) ids.push({ hashedEmail: row.email });
  if (row.phone) ids.push({ hashedPhoneNumber: row.phone });
  const address = completeAddress(row);
  if (address) ids.push({ addressInfo: { hashedFirstName: address.first, hashedLastName: address.last, countryCode: address.country, postalCode: address.zip } });
  return ids;
}

/** Job-level consent: the Google Ads enum words are the config's own (GRANTED, DENIED, UNSPECIFIED). */
export function adsConsent(consent: MemberConsent | undefined): DmConsent | undefined {
  if (!consent || (consent.ad_user_data === undefined && consent.ad_personalization === undefined)) return undefined;
  return {
    ...(consent.ad_user_data ? { adUserData: consent.ad_user_data } : {}),
    ...(consent.ad_personalization ? { adPersonalization: consent.ad_personalization } : {}),
  };
}

function completeAddress(row: HashedRow): { first: string; last: string; country: string; zip: string } | undefined {
  const { first_name: first, last_name: last, country, zip } = row;
  return first && last && country && zip ? { first, last, country, zip } : undefined;
}

/** Why a row has nothing Google can match on (the runner only sends rows with a match key). */
export const NO_IDENTIFIER = 'no identifier Google matches on: an email, a phone, or a full address (first and last name, country and zip)';
