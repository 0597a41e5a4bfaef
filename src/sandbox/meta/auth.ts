// Who is calling: the token (from any of the four places Graph reads it), the optional
// appsecret_proof, and which ad accounts the caller may touch.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { cannotUpdate, invalidProof, invalidToken, missingProof, noAccountAccess } from './errors.js';

export interface AuthPolicy {
  tokens: ReadonlySet<string>;
  /** Undefined: any act_<digits>. */
  adAccounts?: ReadonlySet<string>;
  appSecret?: string;
}

export interface Credentials {
  token?: string;
  proof?: string;
}

export function readCredentials(query: URLSearchParams, params: Record<string, unknown>, headers: IncomingHttpHeaders): Credentials {
  const header = /^(?:Bearer|OAuth)\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  return {
    token: query.get('access_token') ?? stringParam(params.access_token) ?? header,
    proof: query.get('appsecret_proof') ?? stringParam(params.appsecret_proof),
  };
}

/** Throws the Graph answer for a missing or unknown token, or a missing or wrong appsecret_proof. */
export function checkCaller(credentials: Credentials, policy: AuthPolicy): void {
  const { token, proof } = credentials;
  if (!token || !policy.tokens.has(token)) throw invalidToken();
  if (policy.appSecret === undefined) return;
  if (!proof) throw missingProof();
  const expected = Buffer.from(createHmac('sha256', policy.appSecret).update(token).digest('hex'));
  const given = Buffer.from(proof.toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidProof();
}

/** For an audience, Meta words the refusal as "can not update audience"; for an account route, by account. */
export function checkAccount(policy: AuthPolicy, adAccountId: string, audienceId?: string): void {
  const allowed = policy.adAccounts ? policy.adAccounts.has(adAccountId) : /^act_\d+$/.test(adAccountId);
  if (allowed) return;
  throw audienceId === undefined ? noAccountAccess(adAccountId) : cannotUpdate(audienceId);
}

function stringParam(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
