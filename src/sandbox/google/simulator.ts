// A local Google Customer Match: the Data Manager API, the Google Ads API OfflineUserDataJob flow
// and Google's OAuth token endpoint, enforcing the published contract, with hooks for tests:
// membership per list and identifier type, a request log, queued faults, clocks for async status.
import { SANDBOX_TOKEN } from '../token.js';
import { FaultInjector, type Fault, type FaultKind, type FaultOptions } from '../faults.js';
import type { SimReply, SimRequest, Simulator } from '../simulator.js';
import { TokenStore } from './auth.js';
import type { Exchange, GoogleEnv, GoogleRequestLogEntry } from './context.js';
import { RpcFailure, rpcBody } from './errors.js';
import { jobStatus, resourceName } from './google-ads.js';
import { requestStatus } from './data-manager.js';
import { route } from './routes.js';
import { GoogleState, type IdentifierType, type ListType } from './state.js';
import { RateWindow, type GoogleRateLimit } from './throttle.js';

export type { GoogleRequestLogEntry } from './context.js';
export type { IdentifierType } from './state.js';

export interface GoogleSimulatorOptions {
  /** Access tokens accepted as they are. Default: [SANDBOX_TOKEN]. */
  tokens?: string[];
  /** Refresh tokens /oauth2/token exchanges. Default: [SANDBOX_TOKEN]. */
  refreshTokens?: string[];
  /** The OAuth client secret the token endpoint wants. Default: any. */
  clientSecret?: string;
  /** Lifetime of minted access tokens. Default: one hour (expires_in 3600). */
  tokenLifetimeMs?: number;
  /** Google Ads developer tokens. Default: [SANDBOX_TOKEN]. */
  developerTokens?: string[];
  /** Customers the credentials reach directly. Default: any. */
  customers?: string[];
  /** Manager account -> client customers it reaches as the login account. */
  managers?: Record<string, string[]>;
  /**
   * The user lists that exist, per customer id. Default: any numeric id is a Customer Match list,
   * created on first use (as if made in the Google Ads UI), so sandbox targets work with any id.
   */
  userLists?: Record<string, string[]>;
  /** Customers that have not accepted the Customer Match terms. */
  termsNotAccepted?: string[];
  /** How long a request or a run job stays PROCESSING / RUNNING. Default 1000 ms. */
  processingMs?: number;
  /** Reported match rate, as a Google range. Default 80 (71-80%). */
  matchRatePercent?: number;
  /** Project-wide quota over the bulk calls (ingest, remove, addOperations). Default: unlimited. */
  rateLimit?: GoogleRateLimit;
  /** Random faults apply to ingest, remove and addOperations; failNext with `op` reaches any call. */
  faults?: FaultOptions;
  now?: () => number;
}

export interface GoogleUserListInfo {
  id: string;
  customerId: string;
  name: string;
  type: ListType;
}

export interface GoogleJobInfo {
  resourceName: string;
  listId: string;
  status: string;
  creates: number;
  removes: number;
  removeAll: boolean;
}

const LOG_SIZE = 1000;

export class GoogleSimulator implements Simulator {
  private readonly state = new GoogleState();
  private readonly faults: FaultInjector;
  private readonly limiter: RateWindow;
  private readonly tokens: TokenStore;
  private readonly env: GoogleEnv;
  private log: GoogleRequestLogEntry[] = [];

  constructor(
    private readonly options: GoogleSimulatorOptions = {},
    private readonly onChange: () => void = () => undefined,
  ) {
    const now = options.now ?? Date.now;
    this.faults = new FaultInjector(options.faults);
    this.limiter = new RateWindow(options.rateLimit, now);
    this.tokens = new TokenStore(new Set(options.tokens ?? [SANDBOX_TOKEN]), options.tokenLifetimeMs ?? 3_600_000, now);
    this.env = {
      state: this.state,
      tokens: this.tokens,
      faults: this.faults,
      limiter: this.limiter,
      now,
      changed: () => this.onChange(),
      policy: {
        developerTokens: new Set(options.developerTokens ?? [SANDBOX_TOKEN]),
        refreshTokens: new Set(options.refreshTokens ?? [SANDBOX_TOKEN]),
        clientSecret: options.clientSecret,
        customers: options.customers ? new Set(options.customers) : undefined,
        managers: new Map(Object.entries(options.managers ?? {}).map(([m, clients]) => [m, new Set(clients)])),
        termsNotAccepted: new Set(options.termsNotAccepted ?? []),
        strictLists: options.userLists !== undefined,
        processingMs: options.processingMs ?? 1000,
        matchRatePercent: options.matchRatePercent ?? 80,
      },
    };
    this.seedLists();
  }

  /** Creates a user list as if made in the Google Ads UI; returns its id. */
  createUserList(fields: { customerId: string; id?: string; name?: string; type?: ListType }): string {
    const id = this.state.createList(fields).id;
    this.onChange();
    return id;
  }

  userLists(): GoogleUserListInfo[] {
    return [...this.state.lists.values()].map(({ id, customerId, name, type }) => ({ id, customerId, name, type }));
  }

  /** What a list holds for one identifier type, sorted: hex hashes, or addresses as 'given|family|REGION|postal'. */
  members(listId: string, type: IdentifierType = 'email'): string[] {
    const list = this.state.lists.get(listId);
    if (!list) throw new Error(`the Google sandbox has no user list ${listId}`);
    return [...list.members[type].keys()].sort();
  }

  /** The consent (member-level, else request-level) an identifier last arrived with, as sent. */
  consentOf(listId: string, type: IdentifierType, key: string): unknown {
    return this.state.consent.get(`${listId}:${type}:${key}`);
  }

  /** The Data Manager request's status as retrieve would answer it. */
  requestStatus(requestId: string): string | undefined {
    const request = this.state.requests.get(requestId);
    return request ? requestStatus(this.env, request) : undefined;
  }

  jobs(): GoogleJobInfo[] {
    return [...this.state.jobs.values()].map((j) => ({
      resourceName: resourceName(j),
      listId: j.listId,
      status: jobStatus(this.env, j),
      ...j.counts,
    }));
  }

  /** Every PROCESSING request and RUNNING job finishes now. */
  completeAll(): void {
    for (const request of this.state.requests.values()) request.readyAt = 0;
    for (const job of this.state.jobs.values()) if (job.status === 'RUNNING') job.readyAt = 0;
    this.onChange();
  }

  /** Every access token minted so far stops working, as when its hour passes mid-run. */
  expireAccessTokens(): void {
    this.tokens.expireAll();
  }

  /** Access tokens minted at /oauth2/token so far. */
  get tokensMinted(): number {
    return this.tokens.mintedCount;
  }

  /** The last 1,000 requests, oldest first. Paths only, never a token or a body. */
  get requests(): readonly GoogleRequestLogEntry[] {
    return this.log;
  }

  /**
   * The next `count` calls fail this way. Without `op`, the bulk calls (ingest, remove,
   * add_operations) take them; with op 'create_job', 'run_job', 'remove_all', 'status' or 'token', that call.
   */
  failNext(count: number, kind: FaultKind, extra: Omit<Fault, 'kind'> = {}): void {
    this.faults.failNext(count, kind, extra);
  }

  /** Forgets lists (re-seeding declared ones), requests, jobs, the log, queued faults and the quota window. */
  reset(): void {
    this.state.clear();
    this.log = [];
    this.faults.reset();
    this.limiter.reset();
    this.seedLists();
    this.onChange();
  }

  async handle(request: SimRequest): Promise<SimReply> {
    const entry: GoogleRequestLogEntry = { method: request.method, path: request.path, api: 'unknown', op: 'unknown', members: 0, identifiers: 0, status: 0 };
    const ex: Exchange = { request, entry };
    let reply: SimReply;
    try {
      reply = await route(this.env, ex);
    } catch (error) {
      // Anything unexpected becomes Google's INTERNAL, so a simulator bug never takes the server down.
      const failure = error instanceof RpcFailure ? error : new RpcFailure(500, 'INTERNAL', 'Internal error encountered.');
      entry.reason = failure.reason;
      reply = { status: failure.httpStatus, body: rpcBody(failure) };
    }
    if (!('drop' in reply)) entry.status = reply.status;
    this.log.push(entry);
    if (this.log.length > LOG_SIZE) this.log.shift();
    return reply;
  }

  transportError(status: number, message: string): SimReply {
    return { status, body: rpcBody(new RpcFailure(status, 'INVALID_ARGUMENT', message)) };
  }

  snapshot(): unknown {
    return this.state.snapshot();
  }

  restore(state: unknown): void {
    this.state.restore(state);
    this.seedLists();
  }

  private seedLists(): void {
    for (const [customerId, ids] of Object.entries(this.options.userLists ?? {})) {
      for (const id of ids) if (!this.state.lists.has(id)) this.state.createList({ customerId, id });
    }
  }
}
