import { Injectable } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import { DomainError } from '../common/domain-error';
import { JobQueue } from '../jobs/job-queue';
import { decodeCursor, encodeCursor, Page, PageRequest } from '../users/pagination';
import { WEBHOOK_QUEUE, WebhookEvent } from './webhook-event';

export interface FailedWebhook {
  id: string;
  eventId: string;
  type: string;
  userId: string;
  attempts: number;
  lastError: string | null;
  failedAt: string;
}

const MAX_ERROR_LENGTH = 200;

/**
 * The last attempt's error as pg-boss stored it (a serialized Error, or `{ value }` for a string),
 * reduced to its message: no stack, no cause (addresses), any URL cut to its origin and path.
 */
export function lastError(output: unknown): string | null {
  const record = (typeof output === 'object' && output !== null ? output : {}) as { message?: unknown; value?: unknown };
  const nested = typeof record.value === 'object' && record.value !== null ? (record.value as { message?: unknown }).message : record.value;
  const message = typeof record.message === 'string' ? record.message : typeof nested === 'string' ? nested : undefined;
  if (message === undefined) return null;
  const scrubbed = message.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    } catch {
      return '[url]';
    }
  });
  return scrubbed.length > MAX_ERROR_LENGTH ? `${scrubbed.slice(0, MAX_ERROR_LENGTH - 1)}…` : scrubbed;
}

/** Webhook deliveries that ran out of retries: what an admin sees and can send again. */
@Injectable()
export class FailedWebhooksService {
  constructor(private readonly jobs: JobQueue) {}

  async list(page: PageRequest): Promise<Page<FailedWebhook>> {
    const position = page.cursor ? decodeCursor(page.cursor) : undefined;
    const before = position ? { completedOn: new Date(position.createdAt), id: position.id } : undefined;
    const rows = await this.jobs.failed<WebhookEvent>(WEBHOOK_QUEUE, page.limit + 1, before);
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return {
      items: items.map((job) => this.view(job)),
      nextCursor: rows.length > page.limit && last ? encodeCursor({ createdAt: last.completedOn!, id: last.id }) : null,
    };
  }

  /** One more attempt for a failed delivery; 404 for an id the queue does not hold, 409 if it is not failed. */
  async retry(id: string): Promise<void> {
    const job = await this.jobs.job<WebhookEvent>(WEBHOOK_QUEUE, id);
    if (!job) throw new DomainError('webhook_not_found', 'No webhook delivery with that id');
    // The state is checked again by the update itself: two admins retrying at once retry it once.
    if (job.state !== 'failed' || !(await this.jobs.retry(WEBHOOK_QUEUE, id))) {
      throw new DomainError('webhook_not_failed', `This delivery is ${job.state === 'failed' ? 'already being retried' : job.state}, not failed`);
    }
  }

  private view(job: PgBoss.JobWithMetadata<WebhookEvent>): FailedWebhook {
    return {
      id: job.id,
      eventId: job.data.id,
      type: job.data.type,
      userId: job.data.data.userId,
      attempts: job.retryCount + 1,
      lastError: lastError(job.output),
      failedAt: job.completedOn!.toISOString(),
    };
  }
}
