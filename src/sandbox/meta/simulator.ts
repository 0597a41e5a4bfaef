// A local Meta Custom Audiences API (the Graph subset audsync uses) that enforces the published
// contract, with hooks for tests: membership, a request log, queued faults.
import { SANDBOX_TOKEN } from '../token.js';
import { FaultInjector, type Fault, type FaultKind, type FaultOptions } from '../faults.js';
import type { SimReply, SimRequest, Simulator } from '../simulator.js';
import type { Exchange, MetaEnv, MetaRequestLogEntry } from './context.js';
import { GraphFailure, graphErrorBody } from './errors.js';
import { route } from './routes.js';
import { MetaState } from './state.js';
import { AccountRateLimiter, usageHeader, type RateLimitOptions } from './throttle.js';

export type { MetaRequestLogEntry } from './context.js';
export type { RateLimitOptions } from './throttle.js';

export interface MetaSimulatorOptions {
  /** Accepted access tokens. Default: [SANDBOX_TOKEN]. */
  tokens?: string[];
  /** Ad accounts the tokens may use. Default: any act_<digits>. */
  adAccounts?: string[];
  /** When set, every call needs appsecret_proof = hex HMAC-SHA256(key = appSecret, message = token). */
  appSecret?: string;
  /** Per ad account, over a sliding one-second window. Default: unlimited. */
  rateLimit?: RateLimitOptions;
  /** Apply to the users endpoints (add, remove, replace) only. */
  faults?: FaultOptions;
  /** Count the values each audience receives instead of keeping them (benchmarks); see MetaState. */
  countMembersOnly?: boolean;
}

export interface MetaAudienceInfo {
  id: string;
  adAccountId: string;
  name: string;
}

const LOG_SIZE = 1000;

export class MetaSimulator implements Simulator {
  private readonly state: MetaState;
  private readonly faults: FaultInjector;
  private readonly limiter: AccountRateLimiter;
  private readonly env: MetaEnv;
  private log: MetaRequestLogEntry[] = [];
  private traceCounter = 0;
  private sessionCounter = 0;

  constructor(
    options: MetaSimulatorOptions = {},
    private readonly onChange: () => void = () => undefined,
  ) {
    this.state = new MetaState({ countOnly: options.countMembersOnly });
    this.faults = new FaultInjector(options.faults);
    this.limiter = new AccountRateLimiter(options.rateLimit);
    this.env = {
      state: this.state,
      policy: {
        tokens: new Set(options.tokens ?? [SANDBOX_TOKEN]),
        adAccounts: options.adAccounts ? new Set(options.adAccounts) : undefined,
        appSecret: options.appSecret,
      },
      faults: this.faults,
      limiter: this.limiter,
      poisoned: new Set(),
      changed: () => this.onChange(),
      nextSessionId: () => String(1_000_000 + ++this.sessionCounter),
    };
  }

  /** Every audience, in creation order. */
  audiences(): MetaAudienceInfo[] {
    return this.state.all().map(({ id, adAccountId, name }) => ({ id, adAccountId, name }));
  }

  /** The values an audience holds for one schema key (EMAIL, PHONE, MADID...), sorted. */
  members(audienceId: string, key = 'EMAIL'): string[] {
    const audience = this.state.get(audienceId);
    if (!audience) throw new Error(`the Meta sandbox has no audience ${audienceId}`);
    return [...(audience.members.get(key) ?? [])].sort();
  }

  /** The last 1,000 requests, oldest first. Paths only: query strings may hold tokens. */
  get requests(): readonly MetaRequestLogEntry[] {
    return this.log;
  }

  /** Seeds an audience as if created through the API (for tests and demos); returns its id. */
  createAudience(fields: { adAccountId: string; name: string; description?: string }): string {
    const id = this.state.create({ ...fields, customerFileSource: 'USER_PROVIDED_ONLY' }).id;
    this.onChange();
    return id;
  }

  /** The next `count` calls to the users endpoints fail this way. */
  failNext(count: number, kind: FaultKind, extra: Omit<Fault, 'kind'> = {}): void {
    this.faults.failNext(count, kind, extra);
  }

  /**
   * Any add or remove containing one of these values is refused whole with Meta's invalid-parameter
   * answer, naming no row: how one bad row poisons a real request. Replaces the previous list;
   * poison([]) lifts it.
   */
  poison(values: string[]): void {
    this.env.poisoned.clear();
    for (const value of values) this.env.poisoned.add(value);
  }

  /** Forgets audiences, the request log, queued faults and rate-limit windows; ids start over. */
  reset(): void {
    this.state.clear();
    this.log = [];
    this.faults.reset();
    this.limiter.reset();
    this.env.poisoned.clear();
    this.onChange();
  }

  async handle(request: SimRequest): Promise<SimReply> {
    const entry: MetaRequestLogEntry = { method: request.method, path: request.path, op: 'unknown', rows: 0, status: 0 };
    const ex: Exchange = { request, params: {}, entry };
    let reply: SimReply;
    try {
      reply = await route(this.env, ex);
    } catch (error) {
      // Anything unexpected becomes Graph's "unknown error", so a simulator bug never takes the server down.
      const failure = error instanceof GraphFailure ? error : new GraphFailure(500, 1, 'An unknown error has occurred.');
      entry.errorCode = failure.code;
      reply = { status: failure.status, body: graphErrorBody(failure, this.traceId()) };
    }
    if (!('drop' in reply)) {
      entry.status = reply.status;
      if (ex.account) reply.headers = { ...reply.headers, ...usageHeader(ex.account, ex.usage ?? { callCount: 1, regainMs: 0 }) };
    }
    this.log.push(entry);
    if (this.log.length > LOG_SIZE) this.log.shift();
    return reply;
  }

  transportError(status: number, message: string): SimReply {
    return { status, body: graphErrorBody(new GraphFailure(status, 100, `(#100) ${message}`), this.traceId()) };
  }

  snapshot(): unknown {
    return this.state.snapshot();
  }

  restore(state: unknown): void {
    this.state.restore(state);
  }

  private traceId(): string {
    return `Asandbox${(++this.traceCounter).toString(36).padStart(6, '0')}`;
  }
}
