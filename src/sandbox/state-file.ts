// Optional persistence for the sandbox, so the demo keeps its audiences across `npm start` runs.
// Saves are debounced (a sync sends many batches) and atomic (temp file + rename), so a killed
// process leaves either the old file or the new one, never half of one.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type SandboxState = Record<string, unknown>;

interface StateFileContents {
  version: 1;
  simulators: SandboxState;
}

export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly collect: () => SandboxState,
    private readonly debounceMs = 500, // a sync sends many batches; one write per burst is enough
  ) {}

  /** The saved simulators' state, or undefined when there is no file yet. A corrupt file is an error, not a reset. */
  async load(): Promise<SandboxState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: Partial<StateFileContents>;
    try {
      parsed = JSON.parse(text) as Partial<StateFileContents>;
    } catch {
      throw new Error(`sandbox state file ${this.path} is not valid JSON: delete it to start empty`);
    }
    if (parsed.version !== 1 || !parsed.simulators || typeof parsed.simulators !== 'object') {
      throw new Error(`sandbox state file ${this.path} has an unknown format: delete it to start empty`);
    }
    return parsed.simulators;
  }

  /** Called after every mutation; writes at most once per debounce interval. */
  changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save().catch(() => undefined); // retried on the next change or at close
    }, this.debounceMs);
    this.timer.unref(); // close() flushes; the timer must not keep a test process alive
  }

  /** Writes what is pending; called on close. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.saving.catch(() => undefined);
    if (this.dirty) await this.save();
  }

  private save(): Promise<void> {
    // Chained, so two saves never write the temp file at once.
    this.saving = this.saving.catch(() => undefined).then(async () => {
      this.dirty = false;
      const contents: StateFileContents = { version: 1, simulators: this.collect() };
      const temp = `${this.path}.${process.pid}.tmp`;
      try {
        await mkdir(dirname(this.path), { recursive: true });
        await writeFile(temp, JSON.stringify(contents));
        await rename(temp, this.path);
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    });
    return this.saving;
  }
}
