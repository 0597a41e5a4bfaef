// Google Customer Match: what the registry loads for `type: google_customer_match`. One
// destination speaks one API: the Data Manager API (default) or the Google Ads API's
// OfflineUserDataJob flow; both share OAuth, errors and the identifier rules.
import type { Logger } from 'pino';
import { isLoopbackHost, checkBaseUrl } from '../http/base-url.js';
import type { HttpSend } from '../http/request.js';
import type { Platform, PlatformDefinition } from '../platform.js';
import { dataManagerCapabilities, withoutAddresses } from './capabilities.js';
import { GoogleClient } from './client.js';
import type { GoogleConfig } from './config.js';
import { DataManagerPlatform } from './data-manager.js';
import { GoogleAdsPlatform } from './google-ads.js';
import { RefreshingToken, StaticToken, type TokenSource } from './oauth.js';

export { DataManagerPlatform } from './data-manager.js';
export { GoogleAdsPlatform } from './google-ads.js';
export type { GoogleBatch } from './data-manager.js';
export type { MemberConsent } from './payload.js';

const DATA_MANAGER_URL = 'https://datamanager.googleapis.com';
const GOOGLE_ADS_URL = 'https://googleads.googleapis.com';
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const DEFAULT_GOOGLE_ADS_VERSION = 'v24';

export function createGooglePlatform(config: GoogleConfig, http: HttpSend, logger?: Logger): DataManagerPlatform | GoogleAdsPlatform {
  const ads = config.api === 'google_ads';
  const baseUrl = config.api_base_url ? checkBaseUrl(config.api_base_url) : ads ? GOOGLE_ADS_URL : DATA_MANAGER_URL;
  const tokens = tokenSource(config, http);
  const timeoutMs = config.timeout_ms;
  if (!ads) {
    const client = new GoogleClient({ http, baseUrl, tokens, timeoutMs });
    return new DataManagerPlatform(
      {
        client,
        customerId: config.customer_id,
        loginCustomerId: config.login_customer_id,
        apiVersion: config.api_version ?? 'v1',
        termsAccepted: config.terms_of_service_accepted,
        consent: config.consent,
      },
      config.oauth?.client_id,
    );
  }
  const headers: Record<string, string> = { 'developer-token': config.developer_token ?? '' };
  if (config.login_customer_id) headers['login-customer-id'] = config.login_customer_id;
  return new GoogleAdsPlatform({
    client: new GoogleClient({ http, baseUrl, tokens, headers, timeoutMs }),
    customerId: config.customer_id,
    apiVersion: config.api_version ?? DEFAULT_GOOGLE_ADS_VERSION,
    termsAccepted: config.terms_of_service_accepted,
    consent: config.consent,
    logger,
  });
}

function tokenSource(config: GoogleConfig, http: HttpSend): TokenSource {
  if (!config.oauth) return new StaticToken(config.access_token ?? '');
  return new RefreshingToken({
    http,
    tokenUrl: tokenUrl(config),
    clientId: config.oauth.client_id,
    clientSecret: config.oauth.client_secret,
    refreshToken: config.oauth.refresh_token,
    timeoutMs: config.timeout_ms,
  });
}

/**
 * Google's token endpoint, unless overridden; with api_base_url set (a sandbox or a proxy), the
 * exchange goes there too, so a local target never sends a refresh token off the machine.
 */
export function tokenUrl(config: GoogleConfig): string {
  const explicit = config.oauth?.token_url ?? config.oauth_token_url;
  const base = config.api_base_url ? checkBaseUrl(config.api_base_url) : undefined;
  const url = explicit ? checkBaseUrl(explicit) : base ? `${base}/oauth2/token` : TOKEN_URL;
  if (base && isLoopbackHost(new URL(base).hostname) && !isLoopbackHost(new URL(url).hostname)) {
    throw new Error(`api_base_url is a local address but the OAuth token URL is ${new URL(url).host}: point oauth_token_url at the same local server`);
  }
  return url;
}

export const definition: PlatformDefinition<GoogleConfig> = {
  type: 'google_customer_match',
  // The Data Manager flow's; a google_ads destination's own are on its platform (capabilities).
  capabilities: dataManagerCapabilities,
  capabilitiesFor: (config) => (config.send_addresses ? dataManagerCapabilities : withoutAddresses(dataManagerCapabilities)),
  create(config, context): Platform {
    return createGooglePlatform(config, context.http, context.logger);
  },
};
