import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './test-app';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  lastLine: string;
}

/** Runs the built operator CLI (`npm run cli -- …` without the build step) with this environment. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      const lines = stdout.trim().split('\n');
      resolve({ code, stdout, stderr, lastLine: lines[lines.length - 1] ?? '' });
    });
  });
}
