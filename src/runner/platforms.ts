// One platform client per destination for the whole invocation, and one rate queue per ad account
// that every request of every platform client on that account waits in: the platform gets its
// requests only through the queue (PlatformContext.http), so several syncs and destinations on one
// account stay under its limit together, lookups, job runs and status polls included.
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { DestinationDef } from '../core/manifest.js';
import { sendRequest, type HttpSend } from '../platforms/http/request.js';
import type { Platform, PlatformDefinition } from '../platforms/platform.js';
import { loadPlatform, loadPlatformConfigSpec } from '../platforms/registry.js';
import { SANDBOX_TOKEN } from '../sandbox/token.js';

export interface DestinationClient {
  destination: DestinationDef;
  definition: PlatformDefinition<any>;
  platform: Platform;
  concurrency: number;
  maxRows: number;
  maxBytes?: number;
}

interface Limits {
  requests_per_second?: number;
  concurrency?: number;
  batch_size?: number;
}

export class PlatformPool {
  private readonly clients = new Map<string, Promise<DestinationClient>>();
  private readonly rateQueues = new Map<string, PQueue>();

  constructor(
    private readonly logger: Logger,
    /** Base URL per destination type when the target is a sandbox. */
    private readonly sandboxUrl?: (type: string) => string,
  ) {}

  get(destination: DestinationDef): Promise<DestinationClient> {
    let client = this.clients.get(destination.name);
    if (!client) {
      client = this.create(destination);
      this.clients.set(destination.name, client);
    }
    return client;
  }

  private async create(destination: DestinationDef): Promise<DestinationClient> {
    const definition = await loadPlatform(destination.type);
    const config = this.sandboxUrl ? await sandboxConfig(destination, this.sandboxUrl(destination.type)) : destination.config;
    const logger = this.logger.child({ destination: destination.name });
    // The account, and so the queue, is the instance's to name: bound as soon as it exists.
    let rateQueue: PQueue | undefined;
    const http: HttpSend = (request) => {
      if (!rateQueue) return Promise.reject(new Error(`the ${destination.type} platform of destination ${destination.name} sent a request while being created`));
      return rateQueue.add(() => sendRequest(request));
    };
    const platform = definition.create(config, { logger, http });
    // The instance's: one platform type can differ by API (Google Ads takes smaller batches than Data Manager).
    const caps = platform.capabilities;
    const limits = (destination.config.limits ?? {}) as Limits;
    // User limits may lower the platform's, never raise them past what the API accepts.
    const maxRows = Math.min(limits.batch_size ?? caps.maxRowsPerRequest, caps.maxRowsPerRequest);
    const concurrency = limits.concurrency ?? caps.defaultConcurrency ?? 4;
    const rps = limits.requests_per_second ?? caps.defaultRequestsPerSecond;
    rateQueue = this.rateQueueFor(`${destination.type}:${platform.account ?? destination.name}`, rps);
    return { destination, definition, platform, concurrency, maxRows, maxBytes: caps.maxBytesPerRequest };
  }

  /**
   * One queue per ad account: every request of every sync and destination spending that account's
   * limit waits in it, one slot per HTTP call. When destinations on one account set different
   * limits, the first one used sets it.
   */
  private rateQueueFor(account: string, rps: number | undefined): PQueue {
    let queue = this.rateQueues.get(account);
    if (!queue) {
      const cap = rps ? Math.max(1, Math.floor(rps)) : undefined;
      // strict: a sliding window. Fixed windows let up to twice the cap through across a window
      // boundary, which is exactly what a platform's per-second limit counts against us.
      // A 5% longer window: we count a request when it leaves, the platform when it arrives, and
      // arrivals bunch up (a first request that opens the connection lands later than the next).
      queue = new PQueue(cap ? { intervalCap: cap, interval: Math.round((1050 * cap) / rps!), strict: true } : {});
      this.rateQueues.set(account, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) {
      const c = await client.catch(() => undefined);
      await c?.platform.close?.();
    }
  }
}

/**
 * In a sandbox target every credential is the simulator's (real tokens never go to a local server)
 * and every endpoint is the sandbox's: token URL overrides are dropped so they follow the base URL.
 */
async function sandboxConfig(destination: DestinationDef, baseUrl: string): Promise<Record<string, unknown>> {
  const spec = await loadPlatformConfigSpec(destination.type);
  const config: Record<string, unknown> = structuredClone(destination.config);
  for (const path of spec?.secretFields ?? []) {
    atPath(config, path, (node, key) => {
      if (node[key] !== undefined) node[key] = SANDBOX_TOKEN;
    });
  }
  for (const path of spec?.endpointFields ?? []) atPath(config, path, (node, key) => delete node[key]);
  if (spec?.baseUrlField) config[spec.baseUrlField] = baseUrl;
  return config;
}

/** Calls edit with the object holding a dotted path's last key, when that object exists. */
function atPath(config: Record<string, unknown>, path: string, edit: (node: Record<string, unknown>, key: string) => void): void {
  const keys = path.split('.');
  let node: Record<string, unknown> | undefined = config;
  for (const key of keys.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
  if (node) edit(node, keys.at(-1)!);
}
