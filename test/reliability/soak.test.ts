// The short soak in `npm test`: 5 rounds of random source changes with 30% injected faults, the CLI
// killed with SIGKILL mid-delivery in rounds 2 and 4, then a calm run; the audience must equal the
// segment exactly (soak.ts checks it, and the audit trail). `npm run soak` runs the long one.
import { describe, expect, it } from 'vitest';
import { formatReport, runSoak } from './soak.js';

describe('soak (short)', () => {
  it('converges exactly after 5 rounds with 30% faults and 2 kills', async () => {
    const report = await runSoak({ rounds: 5, maxSeconds: 150, seed: 20_260, faultRate: 0.3, killRate: 0, killRounds: [2, 4], members: 60 });
    console.log(formatReport(report));
    expect(report.rounds).toBe(5);
    expect(report.kills).toBe(2);
    expect(report.requests).toBeGreaterThan(0);
    expect(report.finalAudience.members).toBeGreaterThan(40);
  }, 240_000);
});
