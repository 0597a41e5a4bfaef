// Google's RPC error envelope ({error: {code, message, status, details}}) mapped to what the runtime
// does next. The canonical status decides the class; the details decide which rows, how long to
// wait, and what to tell the user. Both APIs share the envelope: the Data Manager API puts reasons
// in ErrorInfo and BadRequest.fieldViolations, the Google Ads API in a GoogleAdsFailure.
import { FatalError, RetriableError } from '../../core/errors.js';
import { redact } from '../../core/secrets.js';
import type { HttpResponse } from '../http/request.js';
import { longerDelay, retryAfterMs } from '../http/retry-after.js';

export interface ErrorContext {
  api: 'Data Manager API' | 'Google Ads API';
  customerId: string;
  userListId?: string;
  /** Tokens: scrubbed from Google's words before they reach a message. */
  secrets: string[];
}

/** One located problem: a member (Data Manager) or an operation (Google Ads) by its index in the request. */
export interface LocatedProblem {
  index?: number;
  reason: string; // Google's enum word: INVALID_HEX_ENCODING, INVALID_SHA256_FORMAT...
  description: string;
  field?: string;
}

export interface RpcError {
  httpStatus: number;
  status: string; // INVALID_ARGUMENT, RESOURCE_EXHAUSTED... ('' when the body is not the envelope)
  message: string;
  /** ErrorInfo reasons and GoogleAdsFailure error codes, for classification. */
  reasons: string[];
  problems: LocatedProblem[];
  retryDelayMs?: number;
}

/** Google named the members or operations at fault: only those rows are rejected. */
export interface RowRejections {
  kind: 'rows';
  rows: Map<number, { reason: string; code: string }>;
}

/** Google refused the request for something in its rows it did not point at: every row is rejected. */
export interface BatchRejection {
  kind: 'batch';
  reason: string;
  code: string;
}

export type Classified = FatalError | RetriableError | RowRejections | BatchRejection;

const TERMS = new Set(['CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS', 'TERMS_AND_CONDITIONS_NOT_SIGNED']);
const LIST = new Set(['INVALID_USER_LIST_ID', 'INVALID_USER_LIST_TYPE', 'INVALID_DESTINATION', 'USER_LIST_NOT_FOUND']);
const DEVELOPER_TOKEN = new Set(['DEVELOPER_TOKEN_INVALID', 'DEVELOPER_TOKEN_PARAMETER_MISSING', 'DEVELOPER_TOKEN_NOT_APPROVED', 'DEVELOPER_TOKEN_PROHIBITED']);
const TRANSIENT = new Set(['CONCURRENT_MODIFICATION', 'RESOURCE_TEMPORARILY_EXHAUSTED', 'TRANSIENT_ERROR', 'INTERNAL_ERROR', 'DEADLINE_EXCEEDED', 'JOB_ALREADY_STARTED']);
const TOO_LARGE = new Set(['TOO_MANY_AUDIENCE_MEMBERS', 'TOO_MANY_USER_IDENTIFIERS', 'TOO_MANY_OPERATIONS', 'REQUEST_SIZE_LIMIT_EXCEEDED']);
const RETRY_STATUSES = new Set(['UNAVAILABLE', 'INTERNAL', 'ABORTED', 'DEADLINE_EXCEEDED']);
/** 401s that no new access token can fix: the refresh is skipped for them. */
export const NOT_TOKEN_PROBLEMS = new Set([...DEVELOPER_TOKEN, 'CUSTOMER_NOT_FOUND', 'NOT_ADS_USER', 'CLIENT_CUSTOMER_ID_INVALID']);

export function readRpcError(response: HttpResponse, secrets: string[]): RpcError {
  const error = (response.body as { error?: unknown } | undefined)?.error;
  const envelope = error && typeof error === 'object' ? (error as Record<string, unknown>) : undefined;
  const parsed = readStatus(envelope, secrets);
  return {
    httpStatus: response.status,
    status: typeof envelope?.status === 'string' ? envelope.status : '',
    message: typeof envelope?.message === 'string' ? scrub(envelope.message, secrets) : `HTTP ${response.status} without a Google error body`,
    ...parsed,
    retryDelayMs: longerDelay(parsed.retryDelayMs, retryAfterMs(response.headers)),
  };
}

/** The details of a google.rpc.Status (an error envelope, or a partialFailureError). */
export function readStatus(status: Record<string, unknown> | undefined, secrets: string[]): Pick<RpcError, 'reasons' | 'problems' | 'retryDelayMs'> {
  const reasons: string[] = [];
  const problems: LocatedProblem[] = [];
  let retryDelayMs: number | undefined;
  const details = Array.isArray(status?.details) ? (status.details as Record<string, unknown>[]) : [];
  for (const detail of details) {
    const type = String(detail?.['@type'] ?? '');
    if (type.endsWith('google.rpc.RetryInfo')) retryDelayMs = longerDelay(retryDelayMs, durationMs(detail.retryDelay));
    else if (type.endsWith('google.rpc.ErrorInfo') && typeof detail.reason === 'string') reasons.push(detail.reason);
    else if (type.endsWith('google.rpc.BadRequest') && Array.isArray(detail.fieldViolations)) {
      for (const v of detail.fieldViolations as Record<string, unknown>[]) {
        const field = typeof v?.field === 'string' ? v.field : '';
        const reason = typeof v?.reason === 'string' ? v.reason : 'INVALID_ARGUMENT';
        reasons.push(reason);
        problems.push({ index: memberIndex(field), reason, field, description: scrub(String(v?.description ?? ''), secrets) });
      }
    } else if (type.endsWith('errors.GoogleAdsFailure') && Array.isArray(detail.errors)) {
      for (const e of detail.errors as Record<string, unknown>[]) {
        const reason = adsErrorCode(e?.errorCode);
        reasons.push(reason);
        const quota = (e?.details as { quotaErrorDetails?: { retryDelay?: unknown } } | undefined)?.quotaErrorDetails;
        if (quota) retryDelayMs = longerDelay(retryDelayMs, durationMs(quota.retryDelay));
        problems.push({ index: operationIndex(e?.location), reason, description: scrub(String(e?.message ?? ''), secrets) });
      }
    }
  }
  return { reasons, problems, retryDelayMs };
}

export function classifyGoogleError(response: HttpResponse, ctx: ErrorContext): Classified {
  const error = readRpcError(response, ctx.secrets);
  const { httpStatus, status, message, reasons } = error;
  const details = { status: httpStatus, code: firstOf(reasons, [...TERMS, ...LIST, ...DEVELOPER_TOKEN, ...TRANSIENT, ...TOO_LARGE]) ?? (status || undefined) };
  const where = `customer ${ctx.customerId}`;
  const list = ctx.userListId ? `user list ${ctx.userListId}` : 'the user list';
  const has = (set: Set<string>) => reasons.some((r) => set.has(r));

  if (has(TERMS)) {
    return new FatalError(`Google refused Customer Match data for ${where}: the Customer Match terms are not accepted (${message})`, details, {
      hint: `sign in to Google Ads as ${where}, accept the Customer Match terms (Tools > Shared library > Audience manager), and keep terms_of_service_accepted: true`,
    });
  }
  if (httpStatus === 401 || status === 'UNAUTHENTICATED') {
    if (has(DEVELOPER_TOKEN)) {
      return new FatalError(`the ${ctx.api} refused the developer token for ${where}: ${message}`, details, {
        hint: "copy the developer token from Google Ads > Admin > API Center into the destination's developer_token variable",
      });
    }
    return new FatalError(`the ${ctx.api} refused the OAuth credentials for ${where}: ${message}`, details, { hint: tokenHint(ctx) });
  }
  if (httpStatus === 403 || status === 'PERMISSION_DENIED') {
    const hint = has(DEVELOPER_TOKEN)
      ? 'a developer token with test access reaches only test accounts: apply for Basic access in the API Center'
      : `give the Google account behind the credentials access to ${where}, or set login_customer_id to the manager account it signs in through`;
    return new FatalError(`the ${ctx.api} refused access to ${where}: ${message}`, details, { hint });
  }
  if (httpStatus === 404 || status === 'NOT_FOUND' || has(LIST)) {
    const wrongType = reasons.includes('INVALID_USER_LIST_TYPE');
    return new FatalError(
      wrongType ? `${list} in ${where} is not a Customer Match (CRM-based) list: ${message}` : `${list} not found in ${where}: ${message}`,
      details,
      { hint: `check audience.id in the sync: the ID of a Customer Match list of ${where} (Google Ads > Tools > Shared library > Audience manager)` },
    );
  }
  if (httpStatus === 429 || status === 'RESOURCE_EXHAUSTED') {
    const retry = error.retryDelayMs === undefined ? {} : { retryAfterMs: error.retryDelayMs };
    return new RetriableError(`the ${ctx.api} throttled ${where}: ${message}`, { ...details, ...retry });
  }
  if (has(TRANSIENT) || httpStatus >= 500 || httpStatus === 408 || RETRY_STATUSES.has(status)) {
    const retry = error.retryDelayMs === undefined ? {} : { retryAfterMs: error.retryDelayMs };
    return new RetriableError(`the ${ctx.api} answered HTTP ${httpStatus}${status ? ` ${status}` : ''}: ${said(error)}`, { ...details, ...retry });
  }
  if (httpStatus === 413) return { kind: 'batch', reason: message, code: 'REQUEST_TOO_LARGE' };
  if (httpStatus === 400 || status === 'INVALID_ARGUMENT' || status === 'FAILED_PRECONDITION') {
    const located = locatedRows(error.problems);
    if (located) return { kind: 'rows', rows: located };
    // Too many rows or identifiers for one request, or a refusal naming nothing: the runtime
    // splits the batch, which both fixes the first and isolates the rows behind the second.
    if (has(TOO_LARGE)) return { kind: 'batch', reason: message, code: details.code ?? 'TOO_LARGE' };
    if (error.problems.length === 0) return { kind: 'batch', reason: message, code: status || 'INVALID_ARGUMENT' };
    // Google named fields of the request itself, not of a member: our request or config is wrong.
    const first = error.problems[0]!;
    return new FatalError(`the ${ctx.api} refused the request for ${list} in ${where}: ${first.reason}${first.field ? ` at ${first.field}` : ''}: ${first.description || message}`, details);
  }
  return new FatalError(`the ${ctx.api} refused the request for ${list} in ${where} with HTTP ${httpStatus}${status ? ` ${status}` : ''}: ${said(error)}`, details);
}

/**
 * What Google said, at its most precise: the first error it located (a GoogleAdsFailure's error
 * code and message, a field violation), else the envelope's message. The Google Ads API puts
 * only "Request contains an invalid argument." in the envelope; the cause is in the details.
 */
function said(error: RpcError): string {
  const first = error.problems[0];
  if (!first) return error.message;
  return first.description ? `${first.reason}: ${first.description}` : first.reason;
}

/** Rows keyed by index when every problem names one, else undefined. */
export function locatedRows(problems: LocatedProblem[]): Map<number, { reason: string; code: string }> | undefined {
  if (problems.length === 0 || problems.some((p) => p.index === undefined)) return undefined;
  const rows = new Map<number, { reason: string; code: string }>();
  for (const p of problems) {
    if (!rows.has(p.index!)) rows.set(p.index!, { code: p.reason, reason: p.description ? `${p.reason}: ${p.description}` : p.reason });
  }
  return rows;
}

export function isClassifiedError(value: Classified): value is FatalError | RetriableError {
  return value instanceof Error;
}

function tokenHint(ctx: ErrorContext): string {
  const scope = ctx.api === 'Data Manager API' ? 'https://www.googleapis.com/auth/datamanager' : 'https://www.googleapis.com/auth/adwords';
  return `use an OAuth token with the ${scope} scope for a Google account with access to customer ${ctx.customerId}; with oauth:, create a new refresh token and set oauth.refresh_token's variable`;
}

/** audience_members[3].user_data... or audienceMembers[3]... (Google has used both spellings). */
function memberIndex(field: string): number | undefined {
  const match = /audience_?members(?:\.audience_?members)?\[(\d+)\]/i.exec(field);
  return match ? Number(match[1]) : undefined;
}

/** location.fieldPathElements: [{fieldName: 'operations', index: 3}, ...]. */
function operationIndex(location: unknown): number | undefined {
  const elements = (location as { fieldPathElements?: { fieldName?: unknown; index?: unknown }[] } | undefined)?.fieldPathElements;
  const first = Array.isArray(elements) ? elements[0] : undefined;
  return first?.fieldName === 'operations' && typeof first.index === 'number' ? first.index : undefined;
}

/** errorCode is a oneof: {offlineUserDataJobError: 'INVALID_SHA256_FORMAT'}. */
function adsErrorCode(errorCode: unknown): string {
  const value = errorCode && typeof errorCode === 'object' ? Object.values(errorCode)[0] : undefined;
  return typeof value === 'string' ? value : 'UNKNOWN';
}

/** A protobuf Duration as JSON ("12s", "1.5s") or as {seconds, nanos}. */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
  }
  if (value && typeof value === 'object') {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const ms = Number(seconds ?? 0) * 1000 + Number(nanos ?? 0) / 1e6;
    return Number.isFinite(ms) && ms >= 0 ? Math.ceil(ms) : undefined;
  }
  return undefined;
}

function firstOf(reasons: string[], known: string[]): string | undefined {
  return reasons.find((r) => known.includes(r)) ?? reasons[0];
}

/** Tokens and anything that looks like a hash out; trimmed so a page of HTML stays out of logs. */
export function scrub(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  out = redact(out).replace(/[0-9a-fA-F]{32,}/g, '[hash]');
  return out.length > 500 ? `${out.slice(0, 500)}...` : out;
}
