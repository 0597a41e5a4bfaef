// Customer Match through the Google Ads API (api: google_ads): an OfflineUserDataJob per user list,
// created at the first send, filled by addOperations (one send = one request, partial failure on:
// Google applies the good operations and names the bad ones), and run by finish(). Removals and
// adds of a sync share the job: Google lets one job run per list at a time and a job takes hours,
// so a second job would meet CONCURRENT_MODIFICATION (retriable) until the first is done.
import type { Logger } from 'pino';
import { silentLogger } from '../../core/log.js';
import type { AudienceRef } from '../../core/manifest.js';
import { FatalError, RetriableError } from '../../core/errors.js';
import type { BatchResult, DeliveryOp, Platform, PlatformReport, RowRejection } from '../platform.js';
import { REPLACE_UNSUPPORTED, userListId } from './audience.js';
import { googleAdsCapabilities } from './capabilities.js';
import type { GoogleClient } from './client.js';
import { classifyGoogleError, isClassifiedError, readRpcError, readStatus, type ErrorContext } from './errors.js';
import { adsConsent, adsUserIdentifiers, NO_IDENTIFIER, type MemberConsent } from './payload.js';
import type { GoogleBatch } from './data-manager.js';
import { jobReport } from './status.js';

export interface GoogleAdsOptions {
  client: GoogleClient;
  customerId: string;
  apiVersion: string;
  termsAccepted: boolean;
  consent?: MemberConsent;
  logger?: Logger;
}

interface Job {
  resourceName: string;
  creates: number;
  removes: number;
  removeAll: boolean;
}

export class GoogleAdsPlatform implements Platform {
  readonly capabilities = googleAdsCapabilities;
  /** Google Ads rate limits are per developer token and customer. */
  readonly account: string;
  /** Per user list, the job not yet run. */
  private readonly jobs = new Map<string, Promise<Job>>();
  /** Lists whose job holds a sync's removals and waits for its adds (or close()). */
  private readonly deferred = new Set<string>();
  private readonly logger: Logger;

  constructor(private readonly o: GoogleAdsOptions) {
    this.logger = o.logger ?? silentLogger;
    this.account = `google_ads:${o.customerId}`;
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
    // One operation per member, one identifier per UserIdentifier (a oneof), at most 3 of 20 allowed.
    const rejected: RowRejection[] = [];
    const operations: unknown[] = [];
    const rowOf: number[] = [];
    batch.rows.forEach((row, index) => {
      const userIdentifiers = adsUserIdentifiers(row);
      if (userIdentifiers.length === 0) return rejected.push({ index, reason: NO_IDENTIFIER, code: 'NO_IDENTIFIER' });
      operations.push({ [batch.op === 'add' ? 'create' : 'remove']: { userIdentifiers } });
      rowOf.push(index);
    });
    if (operations.length === 0) return { accepted: 0, rejected };

    const job = await this.job(batch.audienceId);
    const response = await this.o.client.post(`/${this.o.apiVersion}/${job.resourceName}:addOperations`, { enablePartialFailure: true, operations });
    if (response.status < 200 || response.status >= 300) return this.refused(response, batch.audienceId, job, rowOf, rejected);

    const partial = (response.body as { partialFailureError?: Record<string, unknown> } | undefined)?.partialFailureError;
    const problems = partial ? readStatus(partial, this.o.client.secrets).problems : [];
    if (problems.some((p) => p.index === undefined || p.index >= rowOf.length)) {
      // Failures Google did not place: which operations landed is unknown, so all are sent again
      // (adding or removing an identifier twice changes nothing).
      rejected.push(...rowOf.map((index) => ({ index, reason: problems[0]!.description || problems[0]!.reason, code: problems[0]!.reason })));
      return { accepted: 0, rejected, wholeBatch: true };
    }
    const failed = new Set<number>();
    for (const p of problems) {
      if (failed.has(p.index!)) continue;
      failed.add(p.index!);
      rejected.push({ index: rowOf[p.index!]!, reason: p.description ? `${p.reason}: ${p.description}` : p.reason, code: p.reason });
    }
    const accepted = operations.length - failed.size;
    if (batch.op === 'add') job.creates += accepted;
    else job.removes += accepted;
    return { accepted, rejected };
  }

  /**
   * Runs the list's job, once it holds operations; the report names the job. The runner sends a
   * sync's removals first, then its adds: after removals that adds follow (last: false) the run
   * waits, so the adds join the same job (a second job would meet CONCURRENT_MODIFICATION for as
   * long as the first runs, hours on Google). When nothing follows, the job runs now, so a failure
   * to run it fails the sync's removals instead of leaving them recorded as done. A caller that
   * does not say (no options) gets the wait; a job whose adds never come runs at close().
   */
  async finish(audienceId: string, op: DeliveryOp, options?: { last?: boolean }): Promise<PlatformReport | void> {
    const pending = this.jobs.get(audienceId);
    if (!pending) return;
    const job = await pending.catch(() => undefined);
    if (!job) return; // its creation failed, and so did the sends that needed it
    if (job.creates + job.removes === 0 && !job.removeAll) return;
    if (op === 'remove' && !options?.last) {
      this.deferred.add(audienceId);
      return this.report(audienceId, op, job, 'PENDING');
    }
    await this.run(audienceId, pending, job);
    return this.report(audienceId, op, job, 'RUNNING');
  }

  /**
   * The runner gave up running this list's job (finish() kept failing): forget it, so nothing in
   * this process runs it later, not close() and not another sync to the same list. Its operations
   * are recorded as not applied and the next run stages them again in a new job; running this one
   * later could contradict that run (a member added here may have left by then).
   * The job itself stays PENDING at Google: the OfflineUserDataJobService has no call to delete or
   * cancel a job (only create, addOperations and run), and a job never run changes nothing in the
   * list. Not staging anything while the previous job runs would avoid it, but needs a status
   * query per run and still races; the bounded retries in finish() make an orphan the exception.
   */
  abandon(audienceId: string): void {
    const pending = this.jobs.get(audienceId);
    this.jobs.delete(audienceId);
    this.deferred.delete(audienceId);
    void pending?.then((job) => this.logger.warn({ job: job.resourceName, user_list_id: audienceId }, 'Google Ads job abandoned: it stays PENDING and is never run')).catch(() => undefined);
  }

  /**
   * Runs the jobs still waiting for adds that never came (finish('remove') without last: true,
   * then no finish('add')). The runner says which op is last, so for it this is only the path of
   * a sync that broke off between its removals and its adds without committing; the next run
   * re-sends every member of such a sync (runner/recovery.ts).
   */
  async close(): Promise<void> {
    for (const audienceId of [...this.deferred]) {
      const pending = this.jobs.get(audienceId);
      const job = await pending?.catch(() => undefined);
      if (!pending || !job) continue;
      try {
        await this.run(audienceId, pending, job);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.warn({ job: job.resourceName, error: message }, 'the Google Ads job could not be run: its removals are not applied');
      }
    }
  }

  private async run(audienceId: string, pending: Promise<Job>, job: Job): Promise<void> {
    const response = await this.o.client.post(`/${this.o.apiVersion}/${job.resourceName}:run`, {});
    const started = response.status >= 200 && response.status < 300;
    const reasons = started ? [] : readRpcError(response, this.o.client.secrets).reasons;
    // A retried run whose first answer was lost: the job already runs, which is what we wanted.
    if (!started && !reasons.includes('JOB_ALREADY_STARTED')) {
      if (response.status === 404) throw new FatalError(`the Google Ads API no longer knows job ${job.resourceName}`, { status: 404, code: 'NOT_FOUND' });
      // Google runs one job per list at a time, and a job takes minutes to hours: the job stays
      // PENDING with its operations, and the runtime runs it again after a backoff (finish()).
      if (reasons.includes('CONCURRENT_MODIFICATION')) {
        throw new RetriableError(
          `the Google Ads API refused to run job ${job.resourceName} (CONCURRENT_MODIFICATION): the previous job of user list ${audienceId} in customer ${this.o.customerId} is still running, and Google runs one job per list at a time`,
          { status: response.status, code: 'CONCURRENT_MODIFICATION' },
          { hint: 'Google takes minutes to hours to process a job, and audsync status --refresh shows where it is: run this sync less often than that' },
        );
      }
      const failure = classifyGoogleError(response, this.context(audienceId));
      if (isClassifiedError(failure)) throw failure;
      throw new FatalError(`the Google Ads API refused to run job ${job.resourceName}: ${failure.kind === 'batch' ? failure.reason : 'invalid request'}`);
    }
    this.deferred.delete(audienceId);
    if (this.jobs.get(audienceId) === pending) this.jobs.delete(audienceId);
  }

  private report(audienceId: string, op: DeliveryOp, job: Job, status: string): PlatformReport {
    return {
      kind: 'google_job',
      reference: job.resourceName,
      status,
      details: { api: 'google_ads', op, customer_id: this.o.customerId, user_list_id: audienceId, creates: job.creates, removes: job.removes, remove_all: job.removeAll },
    };
  }

  /** Full refresh: a removeAll operation, which Google takes only as the first of a job. */
  async removeAll(audienceId: string): Promise<void> {
    const job = await this.job(audienceId);
    if (job.creates + job.removes > 0 || job.removeAll) throw new Error(`removeAll must come before any other change to user list ${audienceId} in a run`);
    const response = await this.o.client.post(`/${this.o.apiVersion}/${job.resourceName}:addOperations`, { enablePartialFailure: true, operations: [{ removeAll: true }] });
    const partial = (response.body as { partialFailureError?: Record<string, unknown> } | undefined)?.partialFailureError;
    if (response.status >= 200 && response.status < 300 && !partial) {
      job.removeAll = true;
      return;
    }
    const failure = partial ? undefined : classifyGoogleError(response, this.context(audienceId));
    if (failure && isClassifiedError(failure)) throw failure;
    const said = partial ? readStatus(partial, this.o.client.secrets).problems[0]?.reason : failure?.kind === 'batch' ? failure.reason : undefined;
    throw new FatalError(`the Google Ads API refused to remove all members of user list ${audienceId}${said ? `: ${said}` : ''}`);
  }

  /** The job's status through GAQL (offline_user_data_job.status: PENDING, RUNNING, SUCCESS, FAILED). */
  async retrieveJobStatus(resourceName: string): Promise<PlatformReport> {
    if (!/^customers\/\d+\/offlineUserDataJobs\/\d+$/.test(resourceName)) throw new Error(`not a job resource name: ${resourceName}`);
    const query =
      'SELECT offline_user_data_job.resource_name, offline_user_data_job.status, offline_user_data_job.failure_reason, ' +
      `offline_user_data_job.operation_metadata.match_rate_range FROM offline_user_data_job WHERE offline_user_data_job.resource_name = '${resourceName}'`;
    const response = await this.o.client.post(`/${this.o.apiVersion}/customers/${this.o.customerId}/googleAds:search`, { query });
    if (response.status < 200 || response.status >= 300) {
      const failure = classifyGoogleError(response, this.context());
      if (isClassifiedError(failure)) throw failure;
      throw new FatalError(`the Google Ads API refused the status query for ${resourceName}`);
    }
    const results = (response.body as { results?: { offlineUserDataJob?: Record<string, unknown> }[] } | undefined)?.results;
    return jobReport(resourceName, results?.[0]?.offlineUserDataJob);
  }

  async refreshReport(report: PlatformReport): Promise<PlatformReport> {
    const fresh = await this.retrieveJobStatus(report.reference);
    return { ...fresh, details: { ...report.details, ...fresh.details } };
  }

  private job(audienceId: string): Promise<Job> {
    let job = this.jobs.get(audienceId);
    if (!job) {
      const created = this.createJob(audienceId);
      job = created;
      this.jobs.set(audienceId, created);
      // A failed creation is forgotten, so the next send tries again.
      created.catch(() => this.jobs.get(audienceId) === created && this.jobs.delete(audienceId));
    }
    return job;
  }

  private async createJob(audienceId: string): Promise<Job> {
    const consent = adsConsent(this.o.consent);
    const metadata = { userList: `customers/${this.o.customerId}/userLists/${audienceId}`, ...(consent ? { consent } : {}) };
    const response = await this.o.client.post(`/${this.o.apiVersion}/customers/${this.o.customerId}/offlineUserDataJobs:create`, {
      job: { type: 'CUSTOMER_MATCH_USER_LIST', customerMatchUserListMetadata: metadata },
    });
    const resourceName = (response.body as { resourceName?: unknown } | undefined)?.resourceName;
    if (response.status >= 200 && response.status < 300 && typeof resourceName === 'string') return { resourceName, creates: 0, removes: 0, removeAll: false };
    if (response.status >= 200 && response.status < 300) throw new FatalError(`the Google Ads API created a job for user list ${audienceId} but answered without its resource name`);
    const failure = classifyGoogleError(response, this.context(audienceId));
    if (isClassifiedError(failure)) throw failure;
    throw new FatalError(`the Google Ads API refused to create a job for user list ${audienceId}: ${failure.kind === 'batch' ? failure.reason : 'invalid request'}`, {
      code: failure.kind === 'batch' ? failure.code : 'INVALID_ARGUMENT',
    });
  }

  private refused(response: Parameters<typeof classifyGoogleError>[0], audienceId: string, job: Job, rowOf: number[], rejected: RowRejection[]): BatchResult {
    const reasons = readRpcError(response, this.o.client.secrets).reasons;
    if (response.status === 404 || reasons.includes('JOB_ALREADY_STARTED')) {
      // The job ran or expired under us: forget it; the retry opens a new one.
      this.forget(audienceId, job);
      throw new RetriableError(`job ${job.resourceName} no longer takes operations; retrying with a new job`, { status: response.status, code: 'JOB_ALREADY_STARTED' });
    }
    const failure = classifyGoogleError(response, this.context(audienceId));
    if (isClassifiedError(failure)) throw failure;
    // Without a partial-failure answer nothing was applied: every row is rejected and the runtime splits the batch.
    const located = failure.kind === 'rows' ? failure.rows : new Map<number, { reason: string; code: string }>();
    const fallback =
      failure.kind === 'batch' ? { reason: failure.reason, code: failure.code } : { reason: 'Google refused other operations of this request', code: 'INVALID_ARGUMENT' };
    rejected.push(...rowOf.map((index, op) => ({ index, ...(located.get(op) ?? fallback) })));
    return { accepted: 0, rejected, wholeBatch: true };
  }

  private forget(audienceId: string, job: Job): void {
    const current = this.jobs.get(audienceId);
    void current?.then((j) => j === job && this.jobs.get(audienceId) === current && this.jobs.delete(audienceId)).catch(() => undefined);
  }

  private context(audienceId?: string): ErrorContext {
    return { api: 'Google Ads API', customerId: this.o.customerId, userListId: audienceId, secrets: this.o.client.secrets };
  }
}
