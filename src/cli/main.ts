// The audsync command line. Exit codes are contract.md's: usage and configuration errors are 2,
// never commander's default 1.
import { Command, CommanderError } from 'commander';
import { AUDSYNC_VERSION } from '../core/version.js';
import { EXIT } from '../core/result.js';
import { registerCompile } from './commands/compile.js';
import { registerInit } from './commands/init.js';
import { registerRun } from './commands/run.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerStatus } from './commands/status.js';
import { registerValidate } from './commands/validate.js';
import { classify, printFailure } from './failure.js';

const program = new Command('audsync')
  .description('Keep ad platform audiences equal to SQL segments in your warehouse.')
  .version(AUDSYNC_VERSION)
  .option('--project-dir <dir>', 'the project folder (with audsync.yml)', '.')
  .option('-t, --target <name>', 'target from audsync.yml (default: AUDSYNC_TARGET, then its `target:`)')
  .option('--vars <json>', `values for {{ var() }} as a JSON object, e.g. '{"purchase_window_days": 7}'`)
  .option('--log-level <level>', 'trace, debug, info, warn, error or silent', 'info')
  .option('--log-format <format>', 'json or pretty (default: pretty on a terminal, json otherwise)')
  .showHelpAfterError()
  .exitOverride();

registerInit(program);
registerValidate(program);
registerCompile(program);
registerRun(program, 'plan');
registerRun(program, 'run');
registerStatus(program);
registerSandbox(program);
program.commands.forEach((c) => c.exitOverride());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0. Commander has already printed the
    // message to stderr; with --json, stdout still gets its one JSON document.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error.exitCode !== 0 && process.argv.includes('--json')) {
      const message = error.message.replace(/^error: /, '');
      process.stdout.write(JSON.stringify({ status: 'error', error: { type: 'usage', message, hint: 'see audsync --help', issues: [] } }) + '\n');
    }
  } else {
    const argv = process.argv;
    const failure = classify(error);
    printFailure(failure, { json: argv.includes('--json'), debug: argv.includes('debug') || argv.includes('trace'), error });
    process.exitCode = failure.exitCode;
  }
}
