// One writer per sync: a lock row in the state schema (audsync_locks), held by `host:pid`.
//
// How a lock left by a dead run is taken over, and how long that takes:
//   - same machine: at once. The next run sees that the holder's pid no longer exists.
//   - another machine: when it expires. A running sync extends its lock every LOCK_HEARTBEAT_MS
//     (30 s) to LOCK_TTL_MS (2 minutes) ahead, on a connection of its own (Warehouse.executeAside),
//     so a lock stops being extended within 30 s of its holder dying and is free 2 minutes later at
//     the latest. Engines without executeAside cannot refresh a lock while a stream is open; their
//     locks are not extended and last LOCK_TTL_WITHOUT_HEARTBEAT_MS (10 minutes) from acquisition.
// A second run finds the lock held and skips the sync (exit 5), or with --wait polls until the
// lock is free or the wait is over. A run checks that it still holds its lock before committing.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import type { StateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const LOCK_TTL_MS = 2 * 60 * 1000;
export const LOCK_HEARTBEAT_MS = 30 * 1000;
export const LOCK_TTL_WITHOUT_HEARTBEAT_MS = 10 * 60 * 1000;
/** How often --wait looks at the lock again. */
export const LOCK_POLL_MS = 1000;

/** Overrides for tests; the defaults above are the documented behaviour. */
export interface LockTiming {
  ttlMs: number;
  heartbeatMs: number;
  pollMs: number;
}

export const lockHolder = () => `${hostname()}:${process.pid}`;

export interface LockInfo {
  run_id: string;
  holder: string;
}

/** How far ahead this run's lock expires: short with a heartbeat, long without. */
export function lockTtl(wh: Warehouse, timing: Partial<LockTiming> = {}): number {
  return wh.executeAside ? (timing.ttlMs ?? LOCK_TTL_MS) : LOCK_TTL_WITHOUT_HEARTBEAT_MS;
}

/** Takes the lock of a sync for runId; returns the current holder when someone else has it. */
export async function acquireLock(
  wh: Warehouse,
  d: SqlDialect,
  t: StateTables,
  syncId: string,
  runId: string,
  ttlMs = lockTtl(wh),
): Promise<LockInfo | null> {
  const now = new Date();
  const sync = literal(d, syncId);
  await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${sync} AND expires_at < ${d.timestamp(now.toISOString())}`);
  const existing = await wh.query<LockInfo>(`SELECT run_id, holder FROM ${t.locks} WHERE sync_id = ${sync}`);
  if (existing[0] && holderIsDead(existing[0].holder)) {
    await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${sync} AND run_id = ${literal(d, existing[0].run_id)}`);
  }
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  await wh.execute(
    d.insertIgnore(
      t.locks,
      ['sync_id', 'run_id', 'holder', 'acquired_at', 'expires_at'],
      `SELECT ${sync}, ${literal(d, runId)}, ${literal(d, lockHolder())}, ${d.timestamp(now.toISOString())}, ${d.timestamp(expires)}`,
    ),
  );
  const [current] = await wh.query<LockInfo>(`SELECT run_id, holder FROM ${t.locks} WHERE sync_id = ${sync}`);
  return current && current.run_id !== runId ? current : null;
}

/**
 * acquireLock, polling while another run holds the lock, for at most waitMs (0: one try).
 * Returns the holder when the lock is still taken at the end.
 */
export async function acquireLockWaiting(
  wh: Warehouse,
  d: SqlDialect,
  t: StateTables,
  syncId: string,
  runId: string,
  options: { waitMs?: number; timing?: Partial<LockTiming>; onWait?: (holder: LockInfo) => void } = {},
): Promise<LockInfo | null> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const ttl = lockTtl(wh, options.timing);
  let told = false;
  for (;;) {
    const holder = await acquireLock(wh, d, t, syncId, runId, ttl);
    const left = deadline - Date.now();
    if (!holder || left <= 0) return holder;
    if (!told) options.onWait?.(holder);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, options.timing?.pollMs ?? LOCK_POLL_MS)));
  }
}

export async function releaseLock(wh: Warehouse, d: SqlDialect, t: StateTables, syncId: string, runId: string): Promise<void> {
  await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${literal(d, syncId)} AND run_id = ${literal(d, runId)}`);
}

/** Whether runId still holds the lock (a run that stalled past its expiry may have lost it). */
export async function holdsLock(wh: Warehouse, d: SqlDialect, t: StateTables, syncId: string, runId: string): Promise<boolean> {
  const rows = await wh.query<{ run_id: string }>(`SELECT run_id FROM ${t.locks} WHERE sync_id = ${literal(d, syncId)}`);
  return rows[0]?.run_id === runId;
}

export interface Heartbeat {
  /** Stops extending the lock; resolves once an extension in flight has finished. */
  stop(): Promise<void>;
}

/**
 * Extends runId's lock every heartbeatMs while the sync runs, through executeAside (the main
 * connection may be streaming). Undefined for engines without it. A failed extension is logged and
 * the next one tried; the check before commit is what protects the snapshot.
 */
export function startHeartbeat(
  wh: Warehouse,
  d: SqlDialect,
  t: StateTables,
  syncId: string,
  runId: string,
  logger: Logger,
  timing: Partial<LockTiming> = {},
): Heartbeat | undefined {
  const aside = wh.executeAside?.bind(wh);
  if (!aside) return undefined;
  const ttlMs = timing.ttlMs ?? LOCK_TTL_MS;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  const beat = () => {
    if (stopped) return;
    const expires = new Date(Date.now() + ttlMs).toISOString();
    inFlight = aside(`UPDATE ${t.locks} SET expires_at = ${d.timestamp(expires)} WHERE sync_id = ${literal(d, syncId)} AND run_id = ${literal(d, runId)}`).catch(
      (error: unknown) => logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not extend the lock of this sync; retrying'),
    );
  };
  const timer = setInterval(beat, timing.heartbeatMs ?? LOCK_HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

function holderIsDead(holder: string): boolean {
  const [host, pidText] = holder.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
