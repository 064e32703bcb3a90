import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatorState } from './google-emulator';

/**
 * The in-app emulator's signing key and grants under DATA_DIR, so that a restart keeps linked
 * accounts working (their refresh tokens) and ID tokens verifiable. Owner-only, written atomically.
 */
export class EmulatorStateFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'google-emulator.json');
  }

  load(): EmulatorState | undefined {
    if (!existsSync(this.path)) return undefined;
    return JSON.parse(readFileSync(this.path, 'utf8')) as EmulatorState;
  }

  save(state: EmulatorState): void {
    mkdirSync(join(this.path, '..'), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(state), { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
  }
}
