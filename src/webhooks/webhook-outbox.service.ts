import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue';
import { WEBHOOK_QUEUE, WebhookEvent } from './webhook-event';

export interface WebhookSource {
  id: string;
  action: string;
  userId: string;
  googleUserId: string | null;
  createdAt: Date;
}

/**
 * The transactional outbox: a delivery job written in the audit event's own transaction, so it
 * exists exactly when the change committed. The job id is the event id, so an event is queued once.
 */
@Injectable()
export class WebhookOutboxService {
  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  async enqueue(event: WebhookSource, manager: EntityManager): Promise<void> {
    const webhook = this.config.webhook;
    if (!webhook) return;
    // The link's status after the change, read in the same transaction (null: no link).
    const [link] = await manager.query<Array<{ status: string }>>('SELECT status FROM google_oauth2_users WHERE user_id = $1', [event.userId]);
    const body: WebhookEvent = {
      type: event.action,
      id: event.id,
      timestamp: event.createdAt.toISOString(),
      data: { userId: event.userId, googleUserId: event.googleUserId, status: link?.status ?? null },
    };
    await this.jobs.send(
      WEBHOOK_QUEUE,
      body,
      {
        id: event.id,
        retryLimit: webhook.retryLimit,
        retryDelay: webhook.retryDelaySeconds,
        retryBackoff: true,
        // An attempt is cut at the HTTP timeout; a worker that died mid-attempt frees the job after this.
        expireInSeconds: Math.max(60, Math.ceil((this.config.google.httpTimeoutMs * 2) / 1000)),
      },
      manager,
    );
  }
}
