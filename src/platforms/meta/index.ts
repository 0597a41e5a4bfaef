// Meta Custom Audiences (customer lists): what the registry loads for `type: meta_custom_audiences`.
import { registerSecret } from '../../core/secrets.js';
import { checkBaseUrl } from '../http/base-url.js';
import { FatalError } from '../../core/errors.js';
import { batchRowCount, type BatchResult, type DeliveryBatch, type DeliveryOp, type Platform, type PlatformDefinition, type PlatformReport } from '../platform.js';
import { SessionCounts } from './session-counts.js';
import type { AudienceRef } from '../../core/manifest.js';
import { resolveAudience } from './audience.js';
import { metaCapabilities } from './capabilities.js';
import { GraphClient } from './client.js';
import type { MetaConfig } from './config.js';
import { classifyGraphError, isRejection } from './errors.js';
import { buildPayload, encodedPayloadJson } from './payload.js';

const GRAPH_URL = 'https://graph.facebook.com';

/** usersreplace needs a session: the id the runtime picked, the batch's sequence, the closing flag. */
function replaceSession(batch: DeliveryBatch) {
  if (!batch.session) throw new Error('a replace batch needs a session');
  return { session_id: Number(batch.session.id), batch_seq: batch.session.seq, last_batch_flag: batch.session.last };
}

class MetaPlatform implements Platform {
  readonly capabilities = metaCapabilities;
  readonly account: string;
  /** Two syncs resolving one name at once share the lookup, so they cannot both create it. */
  private readonly resolving = new Map<string, Promise<string | null>>();

  constructor(
    private readonly client: GraphClient,
    private readonly adAccountId: string,
  ) {
    this.account = adAccountId;
  }

  private readonly counts = new SessionCounts();

  /** Meta's own counts of what it received and found invalid, per op, as a platform report. */
  async finish(audienceId: string, op: DeliveryOp): Promise<PlatformReport | void> {
    return this.counts.report(audienceId, op);
  }

  resolveAudience(ref: AudienceRef, options: { create: boolean }): Promise<string | null> {
    const key = `${options.create}:${ref.id ?? ''}:${ref.name ?? ''}`;
    let pending = this.resolving.get(key);
    if (!pending) {
      pending = resolveAudience(this.client, this.adAccountId, ref, options).finally(() => this.resolving.delete(key));
      this.resolving.set(key, pending);
    }
    return pending;
  }

  async send(batch: DeliveryBatch): Promise<BatchResult> {
    const count = batchRowCount(batch);
    if (count === 0) return { accepted: 0, rejected: [] };
    // Encoded rows go into the body as the warehouse wrote them; others are built here.
    const [params, jsonParams] = batch.encoded
      ? [{}, { payload: encodedPayloadJson(batch.kinds, batch.encoded.json) }]
      : [{ payload: buildPayload(batch.kinds, batch.rows) }, {}];
    const response =
      batch.op === 'replace'
        ? await this.client.write('POST', [batch.audienceId, 'usersreplace'], { ...params, session: replaceSession(batch) }, jsonParams)
        : await this.client.write(batch.op === 'add' ? 'POST' : 'DELETE', [batch.audienceId, 'users'], params, jsonParams);
    if (response.status >= 200 && response.status < 300) {
      this.counts.record(batch.audienceId, batch.op, response.body);
      return { accepted: count, rejected: [] };
    }

    const failure = classifyGraphError(response, { adAccountId: this.adAccountId, audienceId: batch.audienceId, secrets: this.client.secrets });
    if (!isRejection(failure)) throw failure;
    // A replace session cannot be bisected: a refused batch fails the whole replace.
    if (batch.op === 'replace') throw new FatalError(`Meta refused a batch of the replace session: ${failure.reason}`, { code: failure.code });
    return { accepted: 0, rejected: Array.from({ length: count }, (_, index) => ({ index, reason: failure.reason, code: failure.code })), wholeBatch: true };
  }
}

/** Where calls go: api_base_url (a sandbox target sets it to the simulator) or Graph itself. */
function baseUrl(config: MetaConfig): string {
  return config.api_base_url ? checkBaseUrl(config.api_base_url) : GRAPH_URL;
}

export const definition: PlatformDefinition<MetaConfig> = {
  type: 'meta_custom_audiences',
  capabilities: metaCapabilities,
  create(config, context) {
    registerSecret(config.access_token);
    registerSecret(config.app_secret);
    const client = new GraphClient({
      http: context.http,
      baseUrl: baseUrl(config),
      apiVersion: config.api_version,
      accessToken: config.access_token,
      appSecret: config.app_secret,
      timeoutMs: config.timeout_ms,
    });
    return new MetaPlatform(client, config.ad_account_id);
  },
};
