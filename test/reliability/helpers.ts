// Helpers of the reliability tests (test/support/project.ts is shared and not edited here): the CLI
// as a child process that can be killed, sandbox faults set through the environment, waiting.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FAULTS_ENV } from '../../src/sandbox/faults.js';
import { createProject, type ProjectOptions, type TestProject } from '../support/project.js';

export const BIN = resolve(import.meta.dirname, '../../bin/audsync.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** `audsync <args> --project-dir <dir>` as a child process, with the project's environment. */
export function spawnCli(dir: string, env: NodeJS.ProcessEnv, args: string[]): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args, '--project-dir', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** A project whose sandbox was started with these faults, read from AUDSYNC_SANDBOX_FAULTS as a user would set them. */
export async function projectWithSandboxFaults(faults: string, options: ProjectOptions = {}): Promise<TestProject> {
  const before = process.env[FAULTS_ENV];
  process.env[FAULTS_ENV] = faults;
  try {
    const p = await createProject(options);
    // The project's env (for CLI children) need not carry it: they do not start a sandbox.
    delete p.env[FAULTS_ENV];
    return p;
  } finally {
    if (before === undefined) delete process.env[FAULTS_ENV];
    else process.env[FAULTS_ENV] = before;
  }
}

/** Appends lines to the project's Meta destination file (limits, timeout_ms). */
export async function appendToDestination(p: TestProject, yaml: string): Promise<void> {
  const file = join(p.dir, 'destinations', 'meta.yml');
  await writeFile(file, `${await readFile(file, 'utf8')}${yaml}\n`);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && (value as unknown) !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
