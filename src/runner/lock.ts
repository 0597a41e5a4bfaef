// One writer per sync: a lock row in the state schema. A lock expires (a crashed run on another
// machine does not block forever), and a lock whose holder process on this machine is gone is
// taken over at once.
import { hostname } from 'node:os';
import { literal, type SqlDialect } from '../warehouse/sql/dialect.js';
import type { StateTables } from '../warehouse/sql/names.js';
import type { Warehouse } from '../warehouse/warehouse.js';

export const LOCK_TTL_MS = 10 * 60 * 1000;

export const lockHolder = () => `${hostname()}:${process.pid}`;

export interface LockInfo {
  run_id: string;
  holder: string;
}

/** Takes the lock of a sync for runId; returns the current holder when someone else has it. */
export async function acquireLock(wh: Warehouse, d: SqlDialect, t: StateTables, syncId: string, runId: string): Promise<LockInfo | null> {
  const now = new Date();
  const sync = literal(d, syncId);
  await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${sync} AND expires_at < ${d.timestamp(now.toISOString())}`);
  const existing = await wh.query<LockInfo>(`SELECT run_id, holder FROM ${t.locks} WHERE sync_id = ${sync}`);
  if (existing[0] && holderIsDead(existing[0].holder)) {
    await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${sync} AND run_id = ${literal(d, existing[0].run_id)}`);
  }
  const expires = new Date(now.getTime() + LOCK_TTL_MS).toISOString();
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

export async function releaseLock(wh: Warehouse, d: SqlDialect, t: StateTables, syncId: string, runId: string): Promise<void> {
  await wh.execute(`DELETE FROM ${t.locks} WHERE sync_id = ${literal(d, syncId)} AND run_id = ${literal(d, runId)}`);
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
