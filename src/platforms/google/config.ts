import { z } from 'zod';
import { limitsSchema } from '../limits.js';
import type { PlatformConfigSpec } from '../platform.js';

/** Google Ads customer ids are written 123-456-7890 in the UI; the APIs take the ten digits. */
const customerId = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((value) => String(value).trim().replace(/-/g, ''))
  .pipe(z.string().regex(/^\d{10}$/, "a Google Ads customer id: ten digits, such as '123-456-7890' or '1234567890'"));

const consentStatus = z.enum(['GRANTED', 'DENIED', 'UNSPECIFIED']);

export const googleConfigSchema = z
  .strictObject({
    /** data_manager (the default; required for new Customer Match adopters since 2026-04-01) or google_ads (OfflineUserDataJob). */
    api: z.enum(['data_manager', 'google_ads']).default('data_manager'),
    customer_id: customerId,
    /** The manager account the credentials belong to, when it is not the operating account itself. */
    login_customer_id: customerId.optional(),
    access_token: z.string().min(1).optional(),
    oauth: z
      .strictObject({
        client_id: z.string().min(1),
        client_secret: z.string().min(1),
        refresh_token: z.string().min(1),
        token_url: z.url().optional(),
      })
      .optional(),
    /** Google Ads API only; the Data Manager API takes none. */
    developer_token: z.string().min(1).optional(),
    api_version: z.string().regex(/^v\d+$/, "an API version such as 'v1' (Data Manager) or 'v24' (Google Ads)").optional(),
    /** Both APIs' base URL (tests, proxies); the token exchange follows it unless oauth_token_url is set. */
    api_base_url: z.url().optional(),
    oauth_token_url: z.url().optional(),
    limits: limitsSchema.optional(),
    timeout_ms: z.number().int().positive().default(60_000),
    /**
     * Google ingests Customer Match data only from advertisers who accepted its Customer Match terms
     * (support.google.com/adspolicy/answer/6299717). Configuring this destination states that you
     * did; set false to refuse every upload (removals still go through).
     */
    terms_of_service_accepted: z.boolean().default(true),
    /**
     * Send addresses (given and family name, region code, postal code: Google matches the four
     * together). Off by default: removing an address later needs its region and postal code in
     * plain text, which Google takes only that way, so with this on audsync keeps them in
     * audsync_snapshots.address_key, the one plain identifier in the state schema (names stay
     * hashed). Emails and phones are sent either way.
     */
    send_addresses: z.boolean().default(false),
    /** Request-level consent (EU user consent policy / DMA); per-member consent overrides it. */
    consent: z
      .strictObject({
        ad_user_data: consentStatus.optional(),
        ad_personalization: consentStatus.optional(),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.access_token === undefined && config.oauth === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['access_token'],
        message: 'set access_token: ${GOOGLE_ACCESS_TOKEN}, or oauth: { client_id, client_secret: ${...}, refresh_token: ${...} }',
      });
    }
    if (config.access_token !== undefined && config.oauth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['oauth'], message: 'set access_token or oauth, not both' });
    }
    if (config.oauth?.token_url !== undefined && config.oauth_token_url !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['oauth_token_url'], message: 'set oauth.token_url or oauth_token_url, not both' });
    }
    if (config.api === 'google_ads' && config.developer_token === undefined) {
      ctx.addIssue({ code: 'custom', path: ['developer_token'], message: 'api: google_ads needs developer_token: ${GOOGLE_DEVELOPER_TOKEN} (Google Ads > Admin > API Center)' });
    }
    if (config.api === 'data_manager' && config.developer_token !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['developer_token'], message: 'the Data Manager API takes no developer token: remove developer_token, or set api: google_ads' });
    }
  });

export type GoogleConfig = z.infer<typeof googleConfigSchema>;
export type ConsentSetting = z.infer<typeof consentStatus>;

export const configSpec: PlatformConfigSpec = {
  type: 'google_customer_match',
  schema: googleConfigSchema,
  secretFields: ['access_token', 'oauth.client_secret', 'oauth.refresh_token', 'developer_token'],
  baseUrlField: 'api_base_url',
  endpointFields: ['oauth_token_url', 'oauth.token_url'],
};
