import { ChildProcess, fork } from 'node:child_process';

/** Forks a compiled bench script with an IPC channel and waits for its first message. */
export async function forkScript<T>(script: string, args: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
  return { child, ready };
}

/** Request/response over a forked child's IPC channel: `{ id, command, args }` → `{ id, result | error }`. */
export class IpcClient {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.error !== undefined) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`child exited (${code})`));
      this.pending.clear();
    });
  }

  call<T>(command: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command, args });
    });
  }
}

/** The child side: answers IpcClient calls with `handlers`. */
export function serveIpc(handlers: Record<string, (...args: never[]) => unknown>): void {
  process.on('message', (message: { id: number; command: string; args: unknown[] }) => {
    const handler = handlers[message.command];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${message.command}`);
        return (handler as (...args: unknown[]) => unknown)(...message.args);
      })
      .then(
        (result) => process.send?.({ id: message.id, result }),
        (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
}
