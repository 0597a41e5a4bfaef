import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { prepareSyncs } from '../../runner/prepare.js';
import { loadManifest, loggerFor, type GlobalOptions } from '../options.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check every file and reference; print every problem with its file and field')
    .option('--json', 'print one JSON document on stdout')
    .action(async (_flags, c: Command) => {
      const o = c.optsWithGlobals<GlobalOptions>();
      loggerFor(o);
      const manifest = await loadManifest(o);
      const prepared = await prepareSyncs(manifest, manifest.syncs);
      const problems = prepared.filter((p) => p.problem);
      if (problems.length > 0) {
        throw new ConfigError(problems.map((p) => ({ file: p.sync.file, path: `syncs (${p.sync.id})`, message: p.problem!.message })));
      }
      const summary = { status: 'valid', models: manifest.models.length, destinations: manifest.destinations.length, syncs: manifest.syncs.length };
      process.stdout.write(
        o.json ? JSON.stringify(summary) + '\n' : `valid: ${summary.models} models, ${summary.destinations} destinations, ${summary.syncs} syncs\n`,
      );
    });
}
