import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue';
import type { WebhookFailure } from '../metrics/metrics.service';
import { MetricsService } from '../metrics/metrics.service';
import { WEBHOOK_QUEUE, WebhookEvent } from './webhook-event';
import { webhookHeaders } from './webhook-signature';

/** A failed attempt: its reason for the metrics, its message for the job's output (no URL, no secret). */
class DeliveryFailed extends Error {
  override name = 'DeliveryFailed';
  constructor(
    readonly reason: Exclude<WebhookFailure, 'ok'>,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Deliveries in flight at once per instance (one fetch of the queue). One at a time, an instance
 * delivered about one a second, far behind its own audit events (BENCHMARKS.md, the soak).
 */
const DELIVERY_CONCURRENCY = 20;

const statusClass = (status: number): Exclude<WebhookFailure, 'ok'> => (status < 400 ? 'status_3xx' : status < 500 ? 'status_4xx' : 'status_5xx');

function unreachable(error: unknown): DeliveryFailed {
  if (error instanceof Error && error.name === 'TimeoutError') return new DeliveryFailed('timeout', 'webhook receiver did not answer in time');
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (code === 'ECONNREFUSED') return new DeliveryFailed('refused', 'webhook receiver refused the connection');
  return new DeliveryFailed('error', `webhook receiver unreachable: ${typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'}`);
}

/**
 * Delivers queued webhooks, on every instance, up to DELIVERY_CONCURRENCY at once: pg-boss hands each
 * job to one worker at a time (FOR UPDATE SKIP LOCKED), and a throw here (non-2xx, timeout, refused)
 * schedules that job's retry.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.webhook) return;
    this.metrics.registerWebhookBacklogCollector(() => this.jobs.backlog(WEBHOOK_QUEUE));
    // With metadata: the retry count tells the last attempt (exhausted) from one that will be retried.
    await this.jobs.workConcurrently<WebhookEvent>(WEBHOOK_QUEUE, DELIVERY_CONCURRENCY, { pollingIntervalSeconds: 1, includeMetadata: true }, (job) =>
      this.deliver(job as PgBoss.JobWithMetadata<WebhookEvent>),
    );
  }

  async deliver(job: PgBoss.JobWithMetadata<WebhookEvent>): Promise<void> {
    const context = { webhookId: job.data.id, type: job.data.type };
    const last = job.retryCount >= job.retryLimit;
    try {
      const status = await this.attempt(job.data);
      this.metrics.webhookDelivery('delivered', 'ok');
      this.logger.log({ ...context, status }, 'Webhook delivered');
    } catch (error) {
      const failure = error instanceof DeliveryFailed ? error : new DeliveryFailed('error', 'webhook delivery failed');
      this.metrics.webhookDelivery(last ? 'exhausted' : 'failed_will_retry', failure.reason);
      const outcome = last ? 'out of retries: an admin can retry it (POST /api/v1/admin/webhooks/failed/:id/retry)' : 'it will be retried';
      this.logger.warn({ ...context, reason: failure.reason, attempt: job.retryCount + 1 }, `Webhook delivery failed (${failure.message}); ${outcome}`);
      throw failure;
    }
  }

  /** One POST; resolves to the 2xx status, throws DeliveryFailed otherwise. */
  private async attempt(event: WebhookEvent): Promise<number> {
    const { url, secret } = this.config.webhook!;
    const body = JSON.stringify(event);
    const headers = { 'content-type': 'application/json', ...webhookHeaders(secret, event.id, new Date(), body) };
    let status: number;
    try {
      const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.google.httpTimeoutMs) });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      throw unreachable(error);
    }
    if (status < 200 || status > 299) throw new DeliveryFailed(statusClass(status), `webhook receiver answered ${status}`);
    return status;
  }
}
