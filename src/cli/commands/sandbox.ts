import type { Command } from 'commander';
import { startSandbox } from '../../sandbox/index.js';
import { FAULTS_ENV, faultsFromEnv } from '../../sandbox/faults.js';
import { UsageError } from '../../core/errors.js';

export function registerSandbox(program: Command): void {
  program
    .command('sandbox')
    .description('serve the local platform simulators on loopback until interrupted')
    .option('-p, --port <port>', 'port to listen on', '9400')
    .option('--state-file <file>', 'keep audiences in this JSON file across restarts')
    .action(async (flags: { port: string; stateFile?: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not '${flags.port}'`);
      const faults = faultsFromEnv();
      const sandbox = await startSandbox({ port, stateFile: flags.stateFile, faults });
      // Listening for the signals before the banner: whoever reads the banner may stop the sandbox
      // at once, and a signal with no listener yet would kill it instead of closing it.
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.stdout.write(
        `audsync sandbox listening on ${sandbox.url}\n  meta_custom_audiences: api_base_url: ${sandbox.urlFor('meta')}\n  google_customer_match: api_base_url: ${sandbox.urlFor('google')}\n`,
      );
      if (faults) process.stdout.write(`  faults from ${FAULTS_ENV}: ${JSON.stringify(faults)}\n`);
      await stopped;
      await sandbox.close();
    });
}
