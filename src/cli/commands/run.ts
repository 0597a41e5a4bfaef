import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { exitCodeFor } from '../../core/result.js';
import { runInvocation } from '../../runner/invocation.js';
import { loadManifest, loggerFor, type GlobalOptions } from '../options.js';
import { formatInvocation } from '../output.js';

interface RunFlags extends GlobalOptions {
  select?: string;
  fullRefresh?: boolean;
  force?: boolean;
  wait?: boolean | string;
}

/** --wait without a value waits this long. */
export const DEFAULT_WAIT_SECONDS = 300;

/** --wait [seconds]: how long to wait for a lock another run holds; undefined without the flag. */
export function waitMs(value: boolean | string | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_WAIT_SECONDS * 1000;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) {
    throw new UsageError(`--wait takes a number of seconds between 0 and 86400, not '${value}'`, { hint: `e.g. --wait 600; --wait alone waits ${DEFAULT_WAIT_SECONDS} s` });
  }
  return seconds * 1000;
}

export function registerRun(program: Command, command: 'run' | 'plan'): void {
  const cmd = program
    .command(command)
    .description(
      command === 'run'
        ? 'materialize each model, diff it against the last sync, send the changes, commit and audit'
        : "compute each sync's delta and guardrail verdict; sends nothing and changes no state",
    )
    .option('-s, --select <selector>', 'model names, tag:<tag>, destination:<name> or sync ids, comma-separated')
    .option('--json', 'print one JSON document on stdout');
  if (command === 'run') {
    cmd
      .option('--full-refresh', 'send every member again, held or not')
      .option('--force', 'send even if a guardrail would block the sync')
      .option('--wait [seconds]', `when another run holds a sync (or the DuckDB file), wait for it up to this long (default ${DEFAULT_WAIT_SECONDS}) instead of skipping it with exit 5`);
  }
  cmd.action(async (_flags, c: Command) => {
    const o = c.optsWithGlobals<RunFlags>();
    const logger = loggerFor(o);
    const wait = waitMs(o.wait);
    const manifest = await loadManifest(o);
    const result = await runInvocation(manifest, { command, select: o.select, fullRefresh: o.fullRefresh, force: o.force, waitMs: wait, logger });
    logger.flush?.();
    process.stdout.write(o.json ? JSON.stringify(result) + '\n' : formatInvocation(result));
    process.exitCode = exitCodeFor(result.status);
  });
}
