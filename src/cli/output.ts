// Human output of plan and run: one line per sync, then what needs attention.
import type { InvocationResult, SyncResult } from '../core/result.js';

const n = (v: number) => v.toLocaleString('en-US');

export function formatInvocation(r: InvocationResult): string {
  const rows = r.syncs.map((s) => [
    s.sync,
    s.status,
    n(s.members),
    `+${n(s.added)}`,
    `-${n(s.removed)}`,
    `~${n(s.changed)}`,
    n(s.failed),
    n(s.invalid),
    n(s.held_out),
    r.command === 'plan' ? `${n(s.rows_to_send.add)}/${n(s.rows_to_send.remove)}` : `${(s.duration_ms / 1000).toFixed(1)}s`,
  ]);
  const header = ['sync', 'status', 'members', 'added', 'removed', 'changed', 'failed', 'invalid', 'held out', r.command === 'plan' ? 'send add/rm' : 'time'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [`${r.command} on target '${r.target}' (${r.invocation_id})`, ''];
  if (r.syncs.length === 0) out.push('no syncs selected');
  else out.push(line(header), ...rows.map(line));
  const notes = r.syncs.filter((s) => s.error || s.audience_created).map(note);
  for (const s of r.syncs) {
    if (s.dead_letters > 0 && !s.error) notes.push(`${s.sync}: ${n(s.dead_letters)} dead-lettered member changes are not sent until their data changes (audsync_changes, status dead)`);
  }
  for (const s of r.syncs) if (s.bytes_estimated !== null) notes.push(`${s.sync}: would scan about ${formatBytes(s.bytes_estimated)}`);
  if (notes.length > 0) out.push('', ...notes);
  out.push('', `${r.command === 'plan' ? 'plan' : 'run'} ${r.status}`);
  return out.join('\n') + '\n';
}

function note(s: SyncResult): string {
  if (s.error) return `${s.sync}: ${s.error}`;
  return `${s.sync}: audience '${s.destination}' will be created on the first run`;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
