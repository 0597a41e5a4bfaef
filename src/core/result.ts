// What plan and run report, per sync and per invocation: the shape of `--json` (contract.md).
export type SyncStatus = 'success' | 'partial' | 'failed' | 'blocked' | 'skipped' | 'planned';

export interface SyncResult {
  sync: string;
  model: string;
  destination: string;
  audience_id: string | null;
  status: SyncStatus;
  members: number; // eligible members: what the audience holds once this run converges
  added: number;
  removed: number;
  changed: number;
  failed: number;
  invalid: number;
  held_out: number;
  duration_ms: number;
  error: string | null;
  // Beyond the contract's minimum: what an operator asks next.
  /**
   * Member changes dead-lettered and not retried until their data changes: those that reached
   * max_attempts in this run, those that can never be sent, and those left from earlier runs.
   * Any of them makes a run 'partial' (exit 3).
   */
  dead_letters: number;
  no_consent: number;
  /** Per identifier kind: values present in the model but invalid under the platform's rule. */
  invalid_by_kind: Record<string, number>;
  rows_to_send: { add: number; remove: number }; // distinct identifier rows (shared identifiers sent once)
  requests: number;
  guardrail: { passed: boolean; violations: string[] } | null;
  audience_created: boolean; // run: created now; plan: would be created
  /** What the platform said about the upload (Meta's received/invalid counts, Google request ids). */
  reports: { kind: string; reference: string; status: string; details: Record<string, unknown> }[];
  /**
   * plan on an engine that bills by bytes scanned (BigQuery): what this sync's statements would
   * scan, its model's candidate query included (that one runs once per model). null elsewhere.
   */
  bytes_estimated: number | null;
}

export interface InvocationResult {
  invocation_id: string;
  command: 'run' | 'plan';
  target: string;
  status: Exclude<SyncStatus, 'planned'> | 'planned';
  syncs: SyncResult[];
}

// Exit codes (contract.md). Where several apply: 2, 1, 4, 5, 3, 0.
export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, blocked: 4, skipped: 5 } as const;

const priority: SyncStatus[] = ['failed', 'blocked', 'skipped', 'partial', 'success', 'planned'];

export function overallStatus(syncs: SyncResult[], command: 'run' | 'plan'): InvocationResult['status'] {
  if (syncs.length === 0) return command === 'plan' ? 'planned' : 'success';
  return priority.find((p) => syncs.some((s) => s.status === p)) ?? 'success';
}

export function exitCodeFor(status: InvocationResult['status']): number {
  switch (status) {
    case 'failed':
      return EXIT.failed;
    case 'blocked':
      return EXIT.blocked;
    case 'skipped':
      return EXIT.skipped;
    case 'partial':
      return EXIT.partial;
    default:
      return EXIT.ok;
  }
}
