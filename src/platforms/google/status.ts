// Google's answers about uploads after the fact, as PlatformReports: a Data Manager request's
// status per destination (requestStatus:retrieve) and a Google Ads job's status. Counts and match
// ranges only; Google returns no identifiers here.
import type { PlatformReport } from '../platform.js';

/** Not final first, so an aggregate of several requests reads PROCESSING until all are done. */
const RANK = ['PROCESSING', 'FAILED', 'PARTIAL_SUCCESS', 'SUCCESS', 'REQUEST_STATUS_UNKNOWN'];

export function overallStatus(statuses: string[]): string {
  if (statuses.length === 0) return 'REQUEST_STATUS_UNKNOWN';
  return [...statuses].sort((a, b) => rank(a) - rank(b))[0]!;
}

function rank(status: string): number {
  const index = RANK.indexOf(status);
  return index < 0 ? RANK.length : index;
}

const count = (value: unknown): number | undefined => (value === undefined || value === null || value === '' ? undefined : Number(value));

/** RetrieveRequestStatusResponse -> one report; `destinations` in the order of the request's. */
export function requestReport(requestId: string, body: unknown): PlatformReport {
  const perDestination = Array.isArray((body as { requestStatusPerDestination?: unknown })?.requestStatusPerDestination)
    ? ((body as { requestStatusPerDestination: Record<string, any>[] }).requestStatusPerDestination)
    : [];
  const destinations = perDestination.map((d) => {
    const ingest = d?.audienceMembersIngestionStatus?.userDataIngestionStatus;
    const removal = d?.audienceMembersRemovalStatus?.userDataRemovalStatus;
    const stats = ingest ?? removal ?? {};
    return withoutUndefined({
      user_list_id: typeof d?.destination?.productDestinationId === 'string' ? d.destination.productDestinationId : undefined,
      status: typeof d?.requestStatus === 'string' ? d.requestStatus : 'REQUEST_STATUS_UNKNOWN',
      record_count: count(stats.recordCount),
      user_identifier_count: count(stats.userIdentifierCount),
      match_rate_range: typeof ingest?.uploadMatchRateRange === 'string' ? ingest.uploadMatchRateRange : undefined,
      errors: reasonCounts(d?.errorInfo?.errorCounts),
      warnings: reasonCounts(d?.warningInfo?.warningCounts),
    });
  });
  return {
    kind: 'google_request',
    reference: requestId,
    status: overallStatus(destinations.map((d) => d.status as string)),
    details: { destinations },
  };
}

/** Several requests of one op as one report: PROCESSING until every one is final. */
export function aggregateReport(base: PlatformReport, reports: PlatformReport[]): PlatformReport {
  const sum = (field: string) =>
    reports.flatMap((r) => (r.details.destinations as Record<string, unknown>[]) ?? []).reduce((total, d) => total + (Number(d[field]) || 0), 0);
  return {
    ...base,
    status: overallStatus(reports.map((r) => r.status)),
    details: {
      ...base.details,
      record_count: sum('record_count'),
      user_identifier_count: sum('user_identifier_count'),
      requests: reports.map((r) => ({ request_id: r.reference, status: r.status, destinations: r.details.destinations })),
    },
  };
}

/** A GAQL row of offline_user_data_job -> report. */
export function jobReport(resourceName: string, job: Record<string, any> | undefined): PlatformReport {
  return {
    kind: 'google_job',
    reference: resourceName,
    status: typeof job?.status === 'string' ? job.status : 'UNKNOWN',
    details: withoutUndefined({
      failure_reason: typeof job?.failureReason === 'string' ? job.failureReason : undefined,
      match_rate_range: typeof job?.operationMetadata?.matchRateRange === 'string' ? job.operationMetadata.matchRateRange : undefined,
    }),
  };
}

function reasonCounts(list: unknown): { reason: string; count: number }[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.map((e: { reason?: unknown; recordCount?: unknown }) => ({ reason: String(e?.reason ?? 'UNKNOWN'), count: Number(e?.recordCount ?? 0) }));
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
