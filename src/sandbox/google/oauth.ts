// POST /oauth2/token: the refresh-token grant of Google's OAuth 2.0 endpoint. Form fields in,
// {access_token, expires_in, scope, token_type} out; OAuth's own error shape ({error,
// error_description}), not the RPC envelope, when it refuses.
import { mediaType } from '../body.js';
import type { SimReply } from '../simulator.js';
import type { Exchange, GoogleEnv } from './context.js';
import { injectedFault } from './faults.js';

const SCOPES = 'https://www.googleapis.com/auth/datamanager https://www.googleapis.com/auth/adwords';

export function exchangeToken(env: GoogleEnv, ex: Exchange): SimReply {
  ex.entry.api = 'oauth';
  ex.entry.op = 'token';
  const fault = env.faults.nextQueued('token');
  if (fault?.kind === 'error') return oauthError(ex, 503, 'temporarily_unavailable', 'The service is currently unavailable.');
  if (fault) return injectedFault(env, ex, fault);
  const type = mediaType(ex.request.headers['content-type']);
  if (ex.request.method !== 'POST' || type !== 'application/x-www-form-urlencoded') {
    return oauthError(ex, 400, 'invalid_request', 'POST the token request as application/x-www-form-urlencoded.');
  }
  const form = new URLSearchParams(ex.request.body.toString('utf8'));
  const grant = form.get('grant_type');
  if (grant !== 'refresh_token') return oauthError(ex, 400, 'unsupported_grant_type', `Invalid grant_type: ${String(grant).slice(0, 40)}`);
  const clientId = form.get('client_id');
  const secret = form.get('client_secret');
  if (!clientId) return oauthError(ex, 400, 'invalid_request', 'Could not determine client ID from request.');
  if (!secret || (env.policy.clientSecret !== undefined && secret !== env.policy.clientSecret)) return oauthError(ex, 401, 'invalid_client', 'Unauthorized');
  const refreshToken = form.get('refresh_token');
  if (!refreshToken || !env.policy.refreshTokens.has(refreshToken)) return oauthError(ex, 400, 'invalid_grant', 'Token has been expired or revoked.');
  const { token, expiresInS } = env.tokens.mint();
  return { status: 200, body: { access_token: token, expires_in: expiresInS, scope: SCOPES, token_type: 'Bearer' } };
}

function oauthError(ex: Exchange, status: number, error: string, description: string): SimReply {
  ex.entry.reason = error;
  return { status, body: { error, error_description: description } };
}
