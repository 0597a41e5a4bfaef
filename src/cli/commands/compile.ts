import type { Command } from 'commander';
import { selectSyncs } from '../../config/select.js';
import { candidateSql } from '../../warehouse/sql/candidate.js';
import { deltaSql } from '../../warehouse/sql/delta.js';
import { partsSql } from '../../warehouse/sql/parts.js';
import { sqlDialect } from '../../warehouse/sql/dialect.js';
import { stateTables } from '../../warehouse/sql/names.js';
import { loadWarehouse } from '../../warehouse/registry.js';
import { identifiersByModel, prepareSyncs } from '../../runner/prepare.js';
import { loadManifest, loggerFor, type GlobalOptions } from '../options.js';

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('print the SQL each selected sync runs in the warehouse')
    .option('-s, --select <selector>', 'model names, tag:<tag>, destination:<name> or sync ids, comma-separated')
    .action(async (_flags, c: Command) => {
      const o = c.optsWithGlobals<GlobalOptions & { select?: string }>();
      loggerFor(o);
      const manifest = await loadManifest(o);
      const prepared = await prepareSyncs(manifest, selectSyncs(manifest, o.select));
      const { capabilities } = await loadWarehouse(manifest.project.target.warehouse.type);
      const d = sqlDialect(capabilities.dialect);
      const t = stateTables(d, manifest.project.stateSchema);
      const out: string[] = [];
      for (const [model, identifiers] of identifiersByModel(prepared)) {
        const def = manifest.models.find((m) => m.name === model)!;
        out.push(`-- model ${model}: candidate (once per run)`, candidateSql(d, def, identifiers, { defaultRegion: manifest.project.defaults.defaultCountry }) + ';', '');
      }
      for (const p of prepared) {
        if (p.problem) {
          out.push(`-- sync ${p.sync.id}: ${p.problem.message}`, '');
          continue;
        }
        out.push(`-- sync ${p.sync.id}: member delta`, deltaSql(d, p.spec, t.snapshots, t.retries) + ';', '');
        out.push(`-- sync ${p.sync.id}: rows to send`, partsSql(d, p.spec, t.snapshots) + ';', '');
      }
      process.stdout.write(out.join('\n'));
    });
}
