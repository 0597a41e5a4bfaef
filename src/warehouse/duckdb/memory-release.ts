// Keeps the process near DuckDB's memory_limit. DuckDB keeps its own allocations under the limit,
// but the memory it frees goes back to glibc's malloc, which keeps it in per-thread arenas instead
// of returning it to the OS: a 10M-member first sync under a 1GB limit peaked at 1.9 GB of RSS
// while DuckDB counted under 1 GB in use. DuckDB calls malloc_trim whenever its memory limit is
// set, so stating the limit again, unchanged, hands that memory back (a dropped 800 MB table: RSS
// 1.1 GB -> 0.1 GB in 45 ms). That is done here only while the process holds clearly more than the
// limit, from a connection of its own, so it also works during a long statement (a window over 8M
// rows: peak RSS 1.8-2.1 GB -> 1.35 GB, the same wall time).
import type { DuckDBConnection } from '@duckdb/node-api';

export interface MemoryReleaseOptions {
  /** The limit as the target states it ('1GB'): stated again as is, so it is never rounded. */
  limit: string;
  /** RSS above which memory is released: the limit plus room for Node.js and the run's batches. */
  thresholdBytes: number;
  /** How often the process's RSS is read. */
  intervalMs?: number;
  /** Reads the process's resident set size (a parameter for tests). */
  rss?: () => number;
}

/** A release that freed less than this did not help: the next check waits longer. */
const USEFUL_BYTES = 32 * 1024 * 1024;
const MAX_BACKOFF = 16;

export class MemoryRelease {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private skip = 0;
  private backoff = 1;
  /** Releases done, and the bytes of RSS they gave back: for tests and debugging. */
  readonly stats = { releases: 0, releasedBytes: 0 };

  constructor(
    readonly connection: DuckDBConnection,
    readonly options: MemoryReleaseOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 250);
    this.timer.unref();
  }

  /** Checks RSS once; a release starts when it is over the threshold (and no release is running). */
  check(): void {
    if (this.inFlight) return;
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    const rss = this.options.rss ?? process.memoryUsage.rss;
    const before = rss();
    if (before <= this.options.thresholdBytes) return;
    this.inFlight = this.release()
      .then(() => {
        const freed = before - rss();
        this.stats.releases++;
        this.stats.releasedBytes += Math.max(0, freed);
        // Memory that DuckDB holds in use cannot be given back: do not ask again every tick.
        this.backoff = freed >= USEFUL_BYTES ? 1 : Math.min(MAX_BACKOFF, this.backoff * 2);
        this.skip = this.backoff - 1;
      })
      // Never worth failing a run for: a failed release is a missed optimization.
      .catch(() => undefined)
      .finally(() => (this.inFlight = undefined));
  }

  /** States the limit again, which makes DuckDB return freed memory to the OS. */
  async release(): Promise<void> {
    await this.connection.run(`SET memory_limit = '${this.options.limit.replace(/'/g, "''")}'`);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Stops, then closes the connection it releases from (it owns it). */
  async close(): Promise<void> {
    await this.stop();
    this.connection.closeSync();
  }
}

const UNITS: Record<string, number> = {
  b: 1, bytes: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** '1GB', '953.6 MiB', '512 bytes' -> bytes; undefined for anything else. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const unit = m && UNITS[m[2]!.toLowerCase()];
  return unit ? Number(m![1]) * unit : undefined;
}
