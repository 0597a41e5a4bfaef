// The extension point for ad platforms. The runtime (delivery.ts) owns batching, concurrency,
// rate limits and retries; a platform's send() sends one batch (one request, plus any it needs
// first, such as creating a job) and maps the answer. Every request goes through context.http.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AddressRule, HashedRow, IdentifierKind, IdentifierRule } from '../core/identifiers.js';
import type { AudienceRef } from '../core/manifest.js';
import type { JsonText } from './http/json-text.js';
import type { HttpSend } from './http/request.js';

export interface PlatformCapabilities {
  identifiers: Partial<Record<IdentifierKind, IdentifierRule>>;
  /** Attribute kinds the platform matches only together, as one identifier (Google's address). */
  address?: AddressRule;
  maxRowsPerRequest: number;
  maxBytesPerRequest?: number;
  defaultRequestsPerSecond?: number;
  defaultConcurrency?: number;
  replace: 'session' | 'remove-all' | 'none'; // how --full-refresh is done
  /**
   * How the platform's payload holds a row, when that can be written in SQL: 'json_array' is a JSON
   * array of the sync's kinds in order with "" for a missing value (Meta's multi-key data). Delivery
   * then has the warehouse write whole batches (DeliveryBatch.encoded), and no row passes through
   * JavaScript on its own. Absent: send() gets rows as objects.
   */
  rowEncoding?: 'json_array';
  /** Takes per-member consent signals with each added member (Google Data Manager). */
  memberConsent?: boolean;
  minAudienceSize?: number;
}

/** 'replace' sends a whole audience in one session that swaps it in when its last batch arrives. */
export interface MemberConsent {
  ad_user_data?: 'GRANTED' | 'DENIED';
  ad_personalization?: 'GRANTED' | 'DENIED';
}

export type DeliveryOp = 'add' | 'remove' | 'replace';

export interface DeliveryBatch {
  audienceId: string;
  op: DeliveryOp;
  /** The identifier kinds this sync sends, in a stable order (the payload schema). */
  kinds: IdentifierKind[];
  /** Empty when the batch comes encoded. */
  rows: HashedRow[];
  /** The rows already in the platform's capabilities.rowEncoding; set only for platforms that declare one. */
  encoded?: EncodedRows;
  /** Per row, the member's consent signals, when the platform takes them and the model maps them. */
  consent?: (MemberConsent | undefined)[];
  /** For 'replace': the session the batch belongs to, its place in it, and whether it closes it. */
  session?: { id: string; seq: number; last: boolean };
}

/**
 * A batch's rows as the warehouse wrote them: `json` is the whole array of rows, as text or as its
 * UTF-8 bytes (which stay outside the JS heap: runner/encoded-batches.ts), `count` its length.
 */
export interface EncodedRows {
  json: JsonText;
  count: number;
}

/** Rows in a batch, encoded or not. */
export function batchRowCount(batch: { rows: HashedRow[]; encoded?: EncodedRows }): number {
  return batch.encoded ? batch.encoded.count : batch.rows.length;
}

export interface RowRejection {
  index: number; // the row's place in the batch (DeliveryBatch.rows, or the encoded array)
  reason: string; // the platform's words; never contains identifier values
  code?: string;
}

export interface BatchResult {
  accepted: number;
  rejected: RowRejection[];
  /**
   * The platform refused every row because of some it did not point at (Meta's invalid-payload
   * answer): the runtime bisects the batch to isolate them instead of failing the good rows.
   */
  wholeBatch?: boolean;
}

export interface PlatformContext {
  logger: Logger;
  /**
   * The platform's only way to the network. The runtime's waits for a slot of the ad account's
   * rate limit before every request, so every call counts, whatever method makes it: audience
   * lookups and creates, uploads, job runs, status polls, token exchanges. (Platforms count the
   * way the platform does: Meta counts every call of an ad account.)
   */
  http: HttpSend;
}

export interface Platform {
  readonly capabilities: PlatformCapabilities;
  /**
   * The ad account whose rate limit this client spends: every request of every sync and destination
   * on one account waits in one limit (context.http).
   */
  readonly account?: string;
  /**
   * The audience id for a sync. With create=false (plan) returns null where the audience would be
   * created; with create=true finds it by name or creates it, never creating a second one.
   */
  resolveAudience(ref: AudienceRef, options: { create: boolean }): Promise<string | null>;
  send(batch: DeliveryBatch): Promise<BatchResult>;
  /**
   * Called once per op after its last batch: close a session, run an upload job, collect counts.
   * `last`: no further op of the sync follows in this run, so nothing may wait for one (the runner
   * records the op's rows as done once this returns). Errors are classified like send()'s: after a
   * RetriableError the runtime calls it again (with backoff, within the retry policy), so it must
   * be safe to repeat. What it returns is stored as a platform report.
   */
  finish?(audienceId: string, op: DeliveryOp, options?: { last?: boolean }): Promise<PlatformReport | void>;
  /**
   * The runtime gave up on finish() for this audience: this run's changes to it are recorded as not
   * applied and the next run sends them again, so nothing staged for it may be applied later (a
   * later run's changes could contradict it). Forget it.
   */
  abandon?(audienceId: string): void;
  /** For capabilities.replace 'remove-all': empty the audience before a full refresh re-adds everyone. */
  removeAll?(audienceId: string): Promise<PlatformReport | void>;
  /** A report brought up to date (an async request's status, a job's outcome), for `status --refresh`. */
  refreshReport?(report: PlatformReport): Promise<PlatformReport>;
  close?(): Promise<void>;
}

/** What a platform says about an upload after the fact (Meta session counts, Google request status). */
export interface PlatformReport {
  kind: string; // 'meta_session', 'google_request', 'google_job'
  reference: string; // the platform's id for it (session id, request id, job resource name)
  status: string; // the platform's own word: 'PROCESSING', 'SUCCESS', ...
  details: Record<string, unknown>; // counts and match information, never identifiers
}

/** What a platform folder exports as `definition` from its index.ts. */
export interface PlatformDefinition<C = Record<string, unknown>> {
  type: string; // destination `type:` value
  capabilities: PlatformCapabilities;
  /**
   * The capabilities a destination's own settings leave (a setting may turn identifiers off);
   * absent when they are always `capabilities`. What the runner asks when it plans a sync.
   */
  capabilitiesFor?(config: C): PlatformCapabilities;
  create(config: C, context: PlatformContext): Platform;
}

/** What a platform folder exports as `configSpec` from its config.ts (zod only, cheap to load). */
export interface PlatformConfigSpec {
  type: string;
  /** Validates the destination file minus `name` and `type`. Strict: unknown keys are errors. */
  schema: z.ZodType;
  /** Dotted paths of fields that must come from ${ENV}, never literal text. */
  secretFields: string[];
  /** Path of the base URL override honoured by this platform ('api_base_url'). */
  baseUrlField?: string;
  /** Other endpoint overrides (token URLs): a sandbox target drops them so they follow the base URL. */
  endpointFields?: string[];
}
