import { FakeGoogle } from '../test/support/fake-google';
import { serveIpc } from './child-process';
import { driveLinks, LinkTask } from './link-driver';

/** Longer than any timeout of the service: a request that reaches the endpoint waits until the service gives up. */
const HANG_MS = 3_600_000;

/**
 * The fake Google (test/support/fake-google.ts) in a process of its own, so that it answers the
 * service on a core the load generator is not saturating. The link driver runs here too, as it
 * plays the person at the fake's consent screen in-process.
 */
async function main(): Promise<void> {
  const fake = await FakeGoogle.start();
  // The fake records every request for tests to assert on; a bench would pile up millions.
  setInterval(() => fake.resetRequests(), 1000).unref();
  let tasks: LinkTask[] = [];
  let used = 0;
  serveIpc({
    env: () => fake.env(),
    configure: (settings: { redirectUri?: string; accessTokenTtlSeconds?: number }) => {
      if (settings.redirectUri !== undefined) fake.redirectUri = settings.redirectUri;
      if (settings.accessTokenTtlSeconds !== undefined) fake.accessTokenTtlSeconds = settings.accessTokenTtlSeconds;
    },
    /** The token endpoint (code exchange and refresh) stops answering until `hang(false)`. */
    hang: (on: boolean) => {
      fake.clearFaults();
      if (on) for (const endpoint of ['token', 'refresh'] as const) fake.fail(endpoint, { delayMs: HANG_MS }, Infinity);
    },
    setLinkTasks: (list: LinkTask[]) => {
      tasks = list;
      used = 0;
    },
    /** Runs the driver over the tasks no earlier run used. */
    driveLinks: async (serviceUrl: string, workers: number, seconds: number) => {
      const run = await driveLinks(fake, serviceUrl, tasks, workers, seconds, used);
      used = run.nextTask;
      return run;
    },
  });
  process.send?.({ url: fake.url });
  process.on('disconnect', () => void fake.stop().finally(() => process.exit(0)));
}

void main();
