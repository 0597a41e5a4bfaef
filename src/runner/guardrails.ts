// Guardrails judge a delta on counts alone, before anything is sent, so a broken upstream table
// cannot empty an audience.
import type { Guardrails } from '../core/manifest.js';

export interface DeltaCounts {
  audienceSize: number; // members the snapshot says the audience holds now
  members: number; // eligible members after this run
  added: number;
  removed: number;
}

export interface GuardrailVerdict {
  passed: boolean;
  violations: string[];
}

const pct = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);
const fmt = (n: number) => n.toLocaleString('en-US');

export function checkGuardrails(g: Guardrails, c: DeltaCounts): GuardrailVerdict {
  const violations: string[] = [];
  if (g.maxRemovePercent !== undefined && c.audienceSize > 0 && pct(c.removed, c.audienceSize) > g.maxRemovePercent) {
    violations.push(
      `would remove ${fmt(c.removed)} of ${fmt(c.audienceSize)} members (${pct(c.removed, c.audienceSize).toFixed(1)}%), above max_remove_percent ${g.maxRemovePercent}`,
    );
  }
  if (g.maxAddPercent !== undefined && c.audienceSize > 0 && pct(c.added, c.audienceSize) > g.maxAddPercent) {
    violations.push(
      `would add ${fmt(c.added)} to an audience of ${fmt(c.audienceSize)} members (${pct(c.added, c.audienceSize).toFixed(1)}%), above max_add_percent ${g.maxAddPercent}`,
    );
  }
  // An empty model for an empty audience sends nothing, so there is nothing to protect.
  const noop = c.audienceSize === 0 && c.members === 0;
  if (g.minMembers !== undefined && c.members < g.minMembers && !noop) {
    violations.push(`the model has ${fmt(c.members)} eligible members, below min_members ${g.minMembers}`);
  }
  return { passed: violations.length === 0, violations };
}
