// A Google Ads API call: the version and customer from its path, and the checks every call makes
// in the API's order: access token, developer token, login-customer-id, then customer access.
import { authenticate, canAccess, checkAdsHeaders } from './auth.js';
import type { Exchange, GoogleEnv } from './context.js';
import { adsError } from './errors.js';

export interface AdsCall {
  version: string; // 'v24'
  customerId: string;
}

export function checkAccess(env: GoogleEnv, ex: Exchange, call: AdsCall): void {
  authenticate(env.tokens, ex.request.headers, call.version);
  const login = checkAdsHeaders(env.policy.developerTokens, ex.request.headers, call.version);
  if (!canAccess(env.policy, call.customerId, login)) {
    throw adsError(call.version, 403, 'PERMISSION_DENIED', [
      {
        errorCode: { authorizationError: 'USER_PERMISSION_DENIED' },
        message:
          "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header.",
      },
    ]);
  }
}
