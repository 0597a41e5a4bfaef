// Google's RPC error envelope as both APIs send it: {error: {code, message, status, details}}.
// The Data Manager API puts its reason in ErrorInfo and its field problems in BadRequest; the
// Google Ads API puts everything in a GoogleAdsFailure. Messages never echo tokens or values.

export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

export interface AdsError {
  /** The oneof errorCode: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' }. */
  errorCode: Record<string, string>;
  message: string;
  location?: { fieldPathElements: { fieldName: string; index?: number }[] };
  details?: Record<string, unknown>;
}

/** Thrown inside a route; the simulator turns it into the envelope. */
export class RpcFailure extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
    readonly details: Record<string, unknown>[] = [],
  ) {
    super(message);
  }

  /** The first reason, for the request log. */
  get reason(): string {
    const find = <T>(pick: (d: Record<string, unknown>) => T | undefined) => this.details.map(pick).find((v) => v !== undefined);
    return (
      find((d) => (d.fieldViolations as FieldViolation[] | undefined)?.find((v) => v.reason)?.reason) ??
      find((d) => (d.errors as AdsError[] | undefined)?.[0] && Object.values((d.errors as AdsError[])[0]!.errorCode)[0]) ??
      find((d) => (typeof d.reason === 'string' ? d.reason : undefined)) ??
      this.status
    );
  }
}

export function rpcBody(failure: RpcFailure): unknown {
  return { error: { code: failure.httpStatus, message: failure.message, status: failure.status, ...(failure.details.length ? { details: failure.details } : {}) } };
}

const DM_DOMAIN = 'datamanager.googleapis.com';
const errorInfo = (reason: string, domain: string, metadata?: Record<string, string>) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason,
  domain,
  ...(metadata ? { metadata } : {}),
});

/** google.protobuf.Duration as JSON: 12000 -> "12s", 1500 -> "1.5s". */
export function duration(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

// ---- both APIs ----------------------------------------------------------------------------------

export function unauthenticated(kind: 'missing' | 'invalid' | 'expired', adsVersion?: string): RpcFailure {
  const message =
    kind === 'missing'
      ? 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.'
      : 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.';
  const reason = kind === 'missing' ? 'CREDENTIALS_MISSING' : kind === 'expired' ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_INVALID';
  const details = [errorInfo(reason, 'googleapis.com')];
  if (adsVersion) {
    const code = kind === 'missing' ? 'OAUTH_TOKEN_HEADER_INVALID' : kind === 'expired' ? 'OAUTH_TOKEN_EXPIRED' : 'OAUTH_TOKEN_INVALID';
    details.push(adsFailure(adsVersion, [{ errorCode: { authenticationError: code }, message: 'Oauth token is not valid.' }]) as never);
  }
  return new RpcFailure(401, 'UNAUTHENTICATED', message, details);
}

export function unavailable(): RpcFailure {
  return new RpcFailure(503, 'UNAVAILABLE', 'The service is currently unavailable.');
}

export function notFound(message: string): RpcFailure {
  return new RpcFailure(404, 'NOT_FOUND', message);
}

// ---- Data Manager API ---------------------------------------------------------------------------

/** 400 INVALID_ARGUMENT with ErrorInfo and BadRequest, as the Data Manager API answers. */
export function dmInvalid(violations: FieldViolation[], reason = 'INVALID_ARGUMENT'): RpcFailure {
  return new RpcFailure(400, 'INVALID_ARGUMENT', 'There was a problem with the request.', [
    errorInfo(reason, DM_DOMAIN),
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
  ]);
}

/** JSON that does not fit the schema: Google answers before looking at the values. */
export function invalidJson(description: string, field: string): RpcFailure {
  return new RpcFailure(400, 'INVALID_ARGUMENT', description, [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description }] },
  ]);
}

export function dmPermissionDenied(): RpcFailure {
  return new RpcFailure(403, 'PERMISSION_DENIED', 'The caller does not have permission', [errorInfo('PERMISSION_DENIED', DM_DOMAIN)]);
}

export function dmThrottled(retryDelayMs: number | undefined): RpcFailure {
  const details: Record<string, unknown>[] = [errorInfo('RESOURCE_EXHAUSTED', DM_DOMAIN, { quota_limit: 'IngestRequestsPerMinutePerProject' })];
  if (retryDelayMs !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: duration(retryDelayMs) });
  return new RpcFailure(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', details);
}

// ---- Google Ads API -----------------------------------------------------------------------------

export function adsFailure(version: string, errors: AdsError[]): Record<string, unknown> {
  return { '@type': `type.googleapis.com/google.ads.googleads.${version}.errors.GoogleAdsFailure`, errors, requestId: requestId() };
}

export function adsError(version: string, httpStatus: number, status: string, errors: AdsError[]): RpcFailure {
  const message = httpStatus === 400 ? 'Request contains an invalid argument.' : (errors[0]?.message ?? status);
  return new RpcFailure(httpStatus, status, message, [adsFailure(version, errors)]);
}

export function adsInvalid(version: string, errors: AdsError[]): RpcFailure {
  return adsError(version, 400, 'INVALID_ARGUMENT', errors);
}

export function adsThrottled(version: string, retryDelayMs: number | undefined): RpcFailure {
  const quota = retryDelayMs === undefined ? {} : { details: { quotaErrorDetails: { rateScope: 'DEVELOPER', rateName: 'Number of operations', retryDelay: duration(retryDelayMs) } } };
  const seconds = retryDelayMs === undefined ? '' : ` Retry in ${Math.ceil(retryDelayMs / 1000)} seconds.`;
  const failure = adsError(version, 429, 'RESOURCE_EXHAUSTED', [{ errorCode: { quotaError: 'RESOURCE_EXHAUSTED' }, message: `Too many requests.${seconds}`, ...quota }]);
  if (retryDelayMs !== undefined) failure.details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: duration(retryDelayMs) });
  return failure;
}

export function operationPath(index: number, ...rest: { fieldName: string; index?: number }[]): AdsError['location'] {
  return { fieldPathElements: [{ fieldName: 'operations', index }, ...rest] };
}

let requestCounter = 0;
function requestId(): string {
  return `sandbox-${(++requestCounter).toString(36).padStart(8, '0')}`;
}
