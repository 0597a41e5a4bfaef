// Customer Match through the Data Manager API (api: data_manager): audienceMembers:ingest and
// :remove, one request per send(). The API is fast-fail: one invalid member refuses the whole
// request and ingests nothing. When Google names the members at fault, send() rejects those rows
// and sends the others again at once (at most twice), so good rows are neither lost nor reported
// as sent when they were not; when it names none, every row is rejected and the runtime bisects.
import type { AudienceRef } from '../../core/manifest.js';
import { FatalError } from '../../core/errors.js';
import type { BatchResult, DeliveryBatch, DeliveryOp, Platform, PlatformReport, RowRejection } from '../platform.js';
import { REPLACE_UNSUPPORTED, userListId } from './audience.js';
import { dataManagerCapabilities } from './capabilities.js';
import type { GoogleClient } from './client.js';
import { classifyGoogleError, isClassifiedError, type ErrorContext } from './errors.js';
import { dmConsent, dmUserIdentifiers, NO_IDENTIFIER, type DmConsent, type MemberConsent } from './payload.js';
import { aggregateReport, requestReport } from './status.js';

/** A batch with per-member consent, aligned with rows, when the runner maps consent columns. */
export type GoogleBatch = DeliveryBatch & { consent?: (MemberConsent | undefined)[] };

export interface DataManagerOptions {
  client: GoogleClient;
  customerId: string;
  loginCustomerId?: string;
  apiVersion: string;
  termsAccepted: boolean;
  consent?: MemberConsent;
}

const MAX_REQUESTS_PER_SEND = 3;

interface Member {
  row: number;
  body: { userData: { userIdentifiers: unknown[] }; consent?: DmConsent };
}

export class DataManagerPlatform implements Platform {
  readonly capabilities = dataManagerCapabilities;
  /** The IngestionService quota is per Google Cloud project, i.e. per OAuth client. */
  readonly account: string;
  private readonly sent = new Map<string, { requestIds: string[]; members: number }>();

  constructor(
    private readonly o: DataManagerOptions,
    oauthClientId?: string,
  ) {
    this.account = `data_manager:${oauthClientId ?? 'access_token'}`;
  }

  /** Plan and run alike: the id is checked, never looked up or created. */
  async resolveAudience(ref: AudienceRef, _options?: { create: boolean }): Promise<string> {
    return userListId(ref, this.o.customerId);
  }

  async send(batch: GoogleBatch): Promise<BatchResult> {
    if (batch.op === 'replace') throw new Error(REPLACE_UNSUPPORTED);
    if (batch.rows.length === 0) return { accepted: 0, rejected: [] };
    if (batch.op === 'add' && !this.o.termsAccepted) {
      throw new FatalError(`terms_of_service_accepted is false for customer ${this.o.customerId}: audsync uploads nothing to Google`, { code: 'TERMS_NOT_ACCEPTED' }, {
        hint: 'accept the Customer Match terms in Google Ads, then set terms_of_service_accepted: true (or remove it)',
      });
    }
    const rejected: RowRejection[] = [];
    let pending: Member[] = [];
    batch.rows.forEach((row, index) => {
      const userIdentifiers = dmUserIdentifiers(row);
      if (userIdentifiers.length === 0) return rejected.push({ index, reason: NO_IDENTIFIER, code: 'NO_IDENTIFIER' });
      const consent = batch.op === 'add' ? dmConsent(batch.consent?.[index]) : undefined; // removals take no consent
      pending.push({ row: index, body: { userData: { userIdentifiers }, ...(consent ? { consent } : {}) } });
    });
    const ctx = this.context(batch.audienceId);

    for (let attempt = 1; pending.length > 0; attempt++) {
      const response = await this.o.client.post(`/${this.o.apiVersion}/audienceMembers:${batch.op === 'add' ? 'ingest' : 'remove'}`, this.body(batch, pending));
      if (response.status >= 200 && response.status < 300) {
        this.record(batch.audienceId, batch.op, (response.body as { requestId?: unknown } | undefined)?.requestId, pending.length);
        return { accepted: pending.length, rejected };
      }
      const failure = classifyGoogleError(response, ctx);
      if (isClassifiedError(failure)) throw failure; // nothing of this batch was ingested: retried whole
      if (failure.kind === 'batch' || attempt === MAX_REQUESTS_PER_SEND) {
        const reason = failure.kind === 'batch' ? failure.reason : 'Google kept refusing members of this request';
        const code = failure.kind === 'batch' ? failure.code : 'INVALID_ARGUMENT';
        rejected.push(...pending.map((m) => ({ index: m.row, reason, code })));
        return { accepted: 0, rejected, wholeBatch: true };
      }
      const unknown = [...failure.rows.keys()].some((i) => i >= pending.length);
      if (unknown) throw new FatalError(`the Data Manager API named member indexes beyond the ${pending.length} sent`, { code: 'INVALID_ARGUMENT' });
      rejected.push(...[...failure.rows].map(([i, r]) => ({ index: pending[i]!.row, reason: r.reason, code: r.code })));
      pending = pending.filter((_, i) => !failure.rows.has(i));
    }
    return { accepted: 0, rejected };
  }

  /** The request ids this op produced since the last finish, as one report; Google processes them for up to hours. */
  async finish(audienceId: string, op: DeliveryOp): Promise<PlatformReport | void> {
    const key = `${audienceId}:${op}`;
    const sent = this.sent.get(key);
    this.sent.delete(key);
    if (!sent || sent.requestIds.length === 0) return;
    return {
      kind: 'google_request',
      reference: sent.requestIds[0]!,
      status: 'PROCESSING',
      details: { api: 'data_manager', op, customer_id: this.o.customerId, user_list_id: audienceId, request_ids: sent.requestIds, members: sent.members },
    };
  }

  /** Full refresh: every member added before now leaves the list; members ingested afterwards stay. */
  async removeAll(audienceId: string): Promise<PlatformReport> {
    const response = await this.o.client.post(`/${this.o.apiVersion}/audienceMembers:removeAll`, { destinations: [this.destination(audienceId)] });
    if (response.status < 200 || response.status >= 300) {
      const failure = classifyGoogleError(response, this.context(audienceId));
      if (isClassifiedError(failure)) throw failure;
      throw new FatalError(`the Data Manager API refused to remove all members of user list ${audienceId}: ${failure.kind === 'batch' ? failure.reason : 'invalid request'}`);
    }
    const requestId = String((response.body as { requestId?: unknown } | undefined)?.requestId ?? '');
    return { kind: 'google_request', reference: requestId, status: 'PROCESSING', details: { api: 'data_manager', op: 'remove_all', customer_id: this.o.customerId, user_list_id: audienceId, request_ids: [requestId] } };
  }

  /** requestStatus:retrieve for one request id. */
  async retrieveStatus(requestId: string): Promise<PlatformReport> {
    const response = await this.o.client.get(`/${this.o.apiVersion}/requestStatus:retrieve`, { requestId });
    if (response.status >= 200 && response.status < 300) return requestReport(requestId, response.body);
    if (response.status === 404) throw new FatalError(`the Data Manager API does not know request ${requestId} (request ids are kept for a limited time)`, { status: 404, code: 'NOT_FOUND' });
    const failure = classifyGoogleError(response, { ...this.context(), userListId: undefined });
    if (isClassifiedError(failure)) throw failure;
    throw new FatalError(`the Data Manager API refused the status request for ${requestId}: ${failure.kind === 'batch' ? failure.reason : 'invalid request'}`);
  }

  /** A report from finish() or removeAll() brought up to date (audsync status --refresh). */
  async refreshReport(report: PlatformReport): Promise<PlatformReport> {
    const ids = Array.isArray(report.details.request_ids) ? (report.details.request_ids as string[]) : [report.reference];
    const reports: PlatformReport[] = [];
    for (const id of ids) reports.push(await this.retrieveStatus(id));
    return aggregateReport(report, reports);
  }

  private body(batch: DeliveryBatch, members: Member[]): Record<string, unknown> {
    const body: Record<string, unknown> = {
      destinations: [this.destination(batch.audienceId)],
      audienceMembers: members.map((m) => m.body),
      encoding: 'HEX',
    };
    if (batch.op === 'add') {
      body.termsOfService = { customerMatchTermsOfServiceStatus: 'ACCEPTED' };
      const consent = dmConsent(this.o.consent);
      if (consent) body.consent = consent;
    }
    return body;
  }

  private destination(audienceId: string): Record<string, unknown> {
    return {
      operatingAccount: { accountType: 'GOOGLE_ADS', accountId: this.o.customerId },
      ...(this.o.loginCustomerId ? { loginAccount: { accountType: 'GOOGLE_ADS', accountId: this.o.loginCustomerId } } : {}),
      productDestinationId: audienceId,
    };
  }

  private record(audienceId: string, op: DeliveryOp, requestId: unknown, members: number): void {
    const key = `${audienceId}:${op}`;
    const entry = this.sent.get(key) ?? { requestIds: [], members: 0 };
    if (typeof requestId === 'string' && requestId !== '') entry.requestIds.push(requestId);
    entry.members += members;
    this.sent.set(key, entry);
  }

  private context(audienceId?: string): ErrorContext {
    return { api: 'Data Manager API', customerId: this.o.customerId, userListId: audienceId, secrets: this.o.client.secrets };
  }
}
