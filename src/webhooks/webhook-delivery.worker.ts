import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue';
import { WEBHOOK_QUEUE, WebhookEvent } from './webhook-event';
import { webhookHeaders } from './webhook-signature';

/**
 * Delivers queued webhooks, on every instance: pg-boss hands each job to one worker at a time
 * (FOR UPDATE SKIP LOCKED), and a throw here (non-2xx, timeout, refused) schedules its retry.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);

  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.webhook) return;
    await this.jobs.work<WebhookEvent>(WEBHOOK_QUEUE, { pollingIntervalSeconds: 1 }, (job) => this.deliver(job));
  }

  async deliver(job: PgBoss.Job<WebhookEvent>): Promise<void> {
    const { url, secret } = this.config.webhook!;
    const body = JSON.stringify(job.data);
    const headers = { 'content-type': 'application/json', ...webhookHeaders(secret, job.data.id, new Date(), body) };
    const context = { webhookId: job.data.id, type: job.data.type };
    let status: number;
    try {
      const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.google.httpTimeoutMs) });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      this.logger.warn(context, `Webhook delivery failed (${(error as Error).name}); it will be retried`);
      throw new Error(`webhook receiver unreachable: ${(error as Error).name}`, { cause: error });
    }
    if (status < 200 || status > 299) {
      this.logger.warn({ ...context, status }, `Webhook receiver answered ${status}; it will be retried`);
      throw new Error(`webhook receiver answered ${status}`);
    }
    this.logger.log({ ...context, status }, 'Webhook delivered');
  }
}
