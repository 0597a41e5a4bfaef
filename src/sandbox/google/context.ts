// What every Google route shares: state, policies, faults, the request in flight and its log entry.
import { BodyParseError, mediaType, parseParams } from '../body.js';
import type { FaultInjector } from '../faults.js';
import type { SimRequest } from '../simulator.js';
import type { AccessPolicy, TokenStore } from './auth.js';
import { invalidJson } from './errors.js';
import type { GoogleState, UserList } from './state.js';
import type { RateWindow } from './throttle.js';

export type GoogleApi = 'data_manager' | 'google_ads' | 'oauth' | 'unknown';
export type GoogleOp =
  | 'ingest'
  | 'remove'
  | 'remove_all'
  | 'status'
  | 'token'
  | 'create_job'
  | 'add_operations'
  | 'run_job'
  | 'search'
  | 'unknown';

export interface GoogleRequestLogEntry {
  method: string;
  /** Below the /google prefix, without the query string. */
  path: string;
  api: GoogleApi;
  op: GoogleOp;
  /** Audience members (Data Manager) or operations (Google Ads) in the request. */
  members: number;
  identifiers: number;
  /** 0 when a fault dropped the request without an answer. */
  status: number;
  /** Google's reason for a refusal (INVALID_HEX_ENCODING, CONCURRENT_MODIFICATION...). */
  reason?: string;
  fault?: string;
}

export interface GooglePolicy extends AccessPolicy {
  developerTokens: ReadonlySet<string>;
  refreshTokens: ReadonlySet<string>;
  /** Undefined: any client secret. */
  clientSecret?: string;
  termsNotAccepted: ReadonlySet<string>;
  /** True when user lists must be declared; false: any numeric id exists, created on first use. */
  strictLists: boolean;
  processingMs: number;
  matchRatePercent: number;
}

export interface GoogleEnv {
  state: GoogleState;
  policy: GooglePolicy;
  tokens: TokenStore;
  faults: FaultInjector;
  limiter: RateWindow;
  now(): number;
  changed(): void;
}

export interface Exchange {
  request: SimRequest;
  entry: GoogleRequestLogEntry;
}

/** A JSON object body; Google answers a body it cannot parse with INVALID_ARGUMENT. */
export function jsonBody(request: SimRequest): Record<string, unknown> {
  const type = mediaType(request.headers['content-type']);
  if (type !== '' && type !== 'application/json') throw invalidJson(`Invalid content type '${type.slice(0, 60)}': send application/json.`, '');
  try {
    return parseParams(request.body, 'application/json');
  } catch (error) {
    if (error instanceof BodyParseError) throw invalidJson(`Invalid JSON payload received. ${error.message}.`, '');
    throw error;
  }
}

/** The list as the customer sees it: undefined when unknown to it (created on first use unless lists are strict). */
export function findList(env: GoogleEnv, customerId: string, listId: string): UserList | undefined {
  const list = env.state.lists.get(listId);
  if (list) return list.customerId === customerId ? list : undefined;
  if (env.policy.strictLists || !/^\d{1,19}$/.test(listId)) return undefined;
  env.changed();
  return env.state.createList({ customerId, id: listId });
}
