// Maps a Graph error answer to what the runtime does next. Meta's HTTP status varies for the same
// problem (a throttle comes as 400, 403 or 429), so the Graph error code decides, the status only
// where there is no code.
import { FatalError, RetriableError } from '../../core/errors.js';
import { redact } from '../../core/secrets.js';
import { longerDelay, retryAfterMs } from '../http/retry-after.js';
import type { HttpResponse } from '../http/request.js';

export interface GraphError {
  status: number;
  code?: number;
  subcode?: number;
  message: string;
}

export interface ErrorContext {
  adAccountId: string;
  audienceId?: string;
  /** Token, app secret and proof: scrubbed from Meta's words before they reach a message. */
  secrets: string[];
}

/** The request itself is invalid (bad payload, too many rows): every row is rejected, retrying cannot help. */
export interface BatchRejection {
  reason: string;
  code: string;
}

const TOKEN_CODES = new Set([190, 102, 2500]);
const PERMISSION_CODES = new Set([10, 200, 294]);
const NOT_FOUND_SUBCODES = new Set([33, 1487301, 1487366]);
const THROTTLE_CODES = new Set([4, 17, 32, 613, 80003, 80004]);
const THROTTLE_SUBCODES = new Set([2446079, 1487742]);
const TRANSIENT_CODES = new Set([1, 2, 21009, 2650]);
const REJECT_CODES = new Set([100, 105]);

const TOKEN_HINT =
  "generate a new system-user access token with the ads_management permission (Business Settings > System users) and set the destination's access_token variable to it";

export function readGraphError(response: HttpResponse, secrets: string[]): GraphError {
  const error = (response.body as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof error?.code === 'number' ? error.code : undefined;
  const subcode = typeof error?.error_subcode === 'number' ? error.error_subcode : undefined;
  const raw = typeof error?.message === 'string' ? error.message : 'no Graph error in the answer';
  return { status: response.status, code, subcode, message: scrub(raw, secrets) };
}

export function classifyGraphError(response: HttpResponse, ctx: ErrorContext): FatalError | RetriableError | BatchRejection {
  const error = readGraphError(response, ctx.secrets);
  const { status, code, subcode, message } = error;
  const details = { status, code: code === undefined ? undefined : String(code) };
  const account = ctx.adAccountId;

  if (code !== undefined && TOKEN_CODES.has(code)) {
    const hint = code === 2500 ? `${TOKEN_HINT}; if the token is valid, check api_version and api_base_url` : TOKEN_HINT;
    return new FatalError(`Meta rejected the access token for ad account ${account}: ${message}`, details, { hint });
  }
  if (code !== undefined && PERMISSION_CODES.has(code)) {
    return new FatalError(`Meta refused the request for ad account ${account}: no permission (${message})`, details, {
      hint: `give the token's system user the ads_management permission on ${account}, and use an audience owned by or shared with ${account}`,
    });
  }
  if (isNotFound(code, subcode)) {
    const what = ctx.audienceId ? `audience ${ctx.audienceId}` : 'the audience';
    return new FatalError(`${what} not found or not shared with ad account ${account}: ${message}`, details, {
      hint: `check audience.id in the sync, or use audience: { name: ... } to let audsync find or create it in ${account}`,
    });
  }
  if (code === 100 && /appsecret_proof/i.test(message)) {
    return new FatalError(`Meta rejected the appsecret_proof for ad account ${account}: ${message}`, details, {
      hint: 'set app_secret to the secret of the app that issued the access token (or remove it if the app does not require it)',
    });
  }
  if ((code !== undefined && THROTTLE_CODES.has(code)) || (subcode !== undefined && THROTTLE_SUBCODES.has(subcode)) || (code === undefined && status === 429)) {
    const delay = longerDelay(regainAccessMs(response.headers, account), retryAfterMs(response.headers));
    return new RetriableError(`Meta throttled ad account ${account}: ${message}`, { ...details, ...(delay ? { retryAfterMs: delay } : {}) });
  }
  if ((code !== undefined && TRANSIENT_CODES.has(code)) || status >= 500 || (code === undefined && status === 408)) {
    // Meta itself sends no Retry-After, but a proxy or load balancer in front of it may.
    const delay = retryAfterMs(response.headers);
    return new RetriableError(`Meta answered HTTP ${status}${code === undefined ? '' : ` (code ${code})`}: ${message}`, { ...details, ...(delay ? { retryAfterMs: delay } : {}) });
  }
  if (code !== undefined && REJECT_CODES.has(code)) return { reason: message, code: String(code) };
  return new FatalError(`Meta refused the request for ad account ${account} with HTTP ${status}${code === undefined ? '' : ` (code ${code})`}: ${message}`, details);
}

export function isRejection(value: unknown): value is BatchRejection {
  return !!value && typeof value === 'object' && 'reason' in value && !(value instanceof Error);
}

function isNotFound(code: number | undefined, subcode: number | undefined): boolean {
  if (code === 1487301 || code === 1487366) return true;
  return code === 100 && subcode !== undefined && NOT_FOUND_SUBCODES.has(subcode);
}

/**
 * Meta sends no Retry-After; X-Business-Use-Case-Usage says, per ad account, how many minutes until
 * calls are accepted again. Our account's entry if present, else the longest wait announced.
 */
export function regainAccessMs(headers: Headers, adAccountId: string): number | undefined {
  const header = headers.get('x-business-use-case-usage');
  if (!header) return undefined;
  let usage: Record<string, { estimated_time_to_regain_access?: unknown }[]>;
  try {
    usage = JSON.parse(header) as typeof usage;
  } catch {
    return undefined;
  }
  const own = usage[adAccountId.replace(/^act_/, '')];
  const entries = Array.isArray(own) ? own : Object.values(usage).flatMap((v) => (Array.isArray(v) ? v : []));
  const minutes = Math.max(0, ...entries.map((e) => Number(e?.estimated_time_to_regain_access) || 0));
  return minutes > 0 ? minutes * 60_000 : undefined;
}

/** Meta's messages do not carry secrets, but a proxy's might; trimmed so a page of HTML stays out of logs. */
function scrub(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  out = redact(out);
  return out.length > 500 ? `${out.slice(0, 500)}...` : out;
}
