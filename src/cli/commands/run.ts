import type { Command } from 'commander';
import { exitCodeFor } from '../../core/result.js';
import { runInvocation } from '../../runner/invocation.js';
import { loadManifest, loggerFor, type GlobalOptions } from '../options.js';
import { formatInvocation } from '../output.js';

interface RunFlags extends GlobalOptions {
  select?: string;
  fullRefresh?: boolean;
  force?: boolean;
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
    cmd.option('--full-refresh', 'send every member again, held or not').option('--force', 'send even if a guardrail would block the sync');
  }
  cmd.action(async (_flags, c: Command) => {
    const o = c.optsWithGlobals<RunFlags>();
    const logger = loggerFor(o);
    const manifest = await loadManifest(o);
    const result = await runInvocation(manifest, { command, select: o.select, fullRefresh: o.fullRefresh, force: o.force, logger });
    logger.flush?.();
    process.stdout.write(o.json ? JSON.stringify(result) + '\n' : formatInvocation(result));
    process.exitCode = exitCodeFor(result.status);
  });
}
