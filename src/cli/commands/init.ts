import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { templateFiles } from '../init/template.js';

export function registerInit(program: Command): void {
  program
    .command('init [dir]')
    .description('scaffold a project that runs as-is on DuckDB with the sandbox')
    .action(async (dir: string | undefined) => {
      const root = resolve(dir ?? '.');
      const clashes = Object.keys(templateFiles).filter((f) => existsSync(join(root, f)));
      if (clashes.length > 0) {
        throw new UsageError(`${root} already has ${clashes.join(', ')}; init never overwrites files`, { hint: 'pick an empty folder: audsync init my_project' });
      }
      for (const [file, text] of Object.entries(templateFiles)) {
        await mkdir(dirname(join(root, file)), { recursive: true });
        await writeFile(join(root, file), text);
      }
      const shown = relative(process.cwd(), root) || '.';
      process.stdout.write(`created an audsync project in ${shown}\nnext: npx audsync run --project-dir ${shown}\n`);
    });
}
