// The platform side of a target: clients per destination, pointed at the built-in simulators when
// the target is a sandbox (started here, with audiences kept in .audsync/sandbox.json).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ProjectConfig } from '../core/manifest.js';
import { sandboxPathFor, startSandbox, type Sandbox } from '../sandbox/index.js';
import { PlatformPool } from './platforms.js';

export interface TargetPlatforms {
  platforms: PlatformPool;
  sandbox?: Sandbox;
  close(): Promise<void>;
}

export async function openTargetPlatforms(project: ProjectConfig, logger: Logger): Promise<TargetPlatforms> {
  let sandbox: Sandbox | undefined;
  if (project.target.sandbox) {
    sandbox = await startSandbox({ stateFile: join(project.projectDir, '.audsync', 'sandbox.json') });
    logger.info({ url: sandbox.url }, 'sandbox target: destinations talk to the local simulators');
  }
  const platforms = new PlatformPool(logger, sandbox ? (type) => `${sandbox!.url}${sandboxPathFor(type)}` : undefined);
  return {
    platforms,
    sandbox,
    async close() {
      await platforms.close();
      await sandbox?.close();
    },
  };
}
