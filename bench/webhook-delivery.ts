import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGoogle } from '../test/support/fake-google';
import { freePort } from '../test/support/test-app';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { queueWebhookEvents } from '../test/support/webhook-jobs';
import { BenchDatabase } from './bench-database';
import { SERVICE_NODE_OPTIONS, ServiceProcess } from './service-process';

/** Events queued at once (BENCH_WEBHOOKS), and the most seconds waited for them (BENCH_WEBHOOK_SECONDS). */
const COUNT = Number(process.env.BENCH_WEBHOOKS ?? 500);
const MAX_SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 60);

/**
 * Webhook delivery throughput of one instance on loopback: COUNT deliveries queued at once, a
 * receiver that answers 204 at once; reports deliveries per second until all arrived (or the time
 * was up), and any event delivered twice. BENCH_SERVICE_MAIN benches another build (before/after).
 */
async function main(): Promise<number> {
  if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 100_000) throw new Error('BENCH_WEBHOOKS must be 1 to 100000');
  const workDir = mkdtempSync(join(tmpdir(), 'google-link-bench-webhooks-'));
  const database = await BenchDatabase.open();
  const google = await FakeGoogle.start();
  const receiver = await WebhookReceiver.start();
  receiver.answer = () => 204;
  const port = await freePort();
  const service = await ServiceProcess.start(
    {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      NODE_OPTIONS: SERVICE_NODE_OPTIONS,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: database.url,
      DATA_DIR: join(workDir, 'data'),
      ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      ...google.env(),
    },
    workDir,
  );
  try {
    const userId = randomUUID();
    await queueWebhookEvents((sql, params) => database.query(sql, params), userId, COUNT);
    const started = Date.now();
    const deadline = started + MAX_SECONDS * 1000;
    while (receiver.received.length < COUNT && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = (Date.now() - started) / 1000;
    const delivered = new Set(receiver.received.map((hook) => String(hook.headers['webhook-id']))).size;
    const result = {
      queued: COUNT,
      delivered,
      duplicates: receiver.received.length - delivered,
      seconds: Number(seconds.toFixed(2)),
      deliveriesPerSecond: Number((delivered / seconds).toFixed(1)),
      allDelivered: delivered === COUNT,
    };
    console.log(JSON.stringify(result));
    return result.allDelivered && result.duplicates === 0 ? 0 : 1;
  } finally {
    await service.stop();
    await receiver.stop();
    await google.stop();
    await database.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
