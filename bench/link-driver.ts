import type { FakeGoogle } from '../test/support/fake-google';
import { HttpClient } from '../test/support/http-client';
import { summarise, LatencySummary } from './latency';
import { clientAddress } from './load';

/** A signed-in bench user the driver links: its Bearer session and the email it consents as. */
export interface LinkTask {
  token: string;
  email: string;
}

export interface LinkRun {
  completed: number;
  failed: number;
  /** Failure reasons (the callback's `reason`, or the step that threw) and their counts. */
  failures: Record<string, number>;
  seconds: number;
  latency: LatencySummary;
  /** Indexes (into the tasks) of the users now linked. */
  linked: number[];
  /** The first task no worker took: where the next run starts. */
  nextTask: number;
  /** True when every task was used before the time ran out. */
  exhausted: boolean;
}

/**
 * The full link round trip, as many times as `workers` browsers manage in `seconds`: start the link
 * with the user's Bearer session, play the person at the fake Google's consent screen, then follow
 * Google's redirect to the callback with the browser's binding cookie. Each task is used once, so
 * every round trip is a first link (autocannon cannot chain requests like this).
 */
export async function driveLinks(fake: FakeGoogle, serviceUrl: string, tasks: LinkTask[], workers: number, seconds: number, firstTask = 0): Promise<LinkRun> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  const linked: number[] = [];
  let next = firstTask;
  let completed = 0;
  let failed = 0;

  const roundTrip = async (browser: HttpClient, task: LinkTask, index: number): Promise<string> => {
    const from = { 'x-forwarded-for': clientAddress(index) };
    const start = await browser.get('/api/v1/auth/google/link', { authorization: `Bearer ${task.token}`, ...from });
    if (start.status !== 200) return `start_${start.status}`;
    const callbackUrl = await fake.consent(start.json<{ url: string }>().url, { email: task.email });
    const callback = await browser.get(callbackUrl, from);
    const location = new URL(callback.location ?? 'http://none.invalid/');
    return location.searchParams.get('google_link') === 'success' ? 'success' : (location.searchParams.get('reason') ?? `callback_${callback.status}`);
  };

  const worker = async () => {
    const browser = new HttpClient(serviceUrl);
    while (performance.now() < deadline && next < tasks.length) {
      const index = next++;
      const begun = performance.now();
      const outcome = await roundTrip(browser, tasks[index], index).catch((error: unknown) => `error: ${(error as Error).message}`);
      latencies.push(performance.now() - begun);
      if (outcome === 'success') {
        completed += 1;
        linked.push(index);
      } else {
        failed += 1;
        failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    }
  };

  await Promise.all(Array.from({ length: workers }, worker));
  return {
    completed,
    failed,
    failures,
    seconds: (performance.now() - started) / 1000,
    latency: summarise(latencies),
    linked,
    nextTask: next,
    exhausted: next >= tasks.length,
  };
}
