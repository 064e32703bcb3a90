import { WEBHOOK_QUEUE } from '../../src/webhooks/webhook-event';

type Query = (sql: string, params?: unknown[]) => Promise<unknown[]>;

/**
 * Queues `count` webhook deliveries for `userId` in one statement, as the outbox would (the event id
 * as the job id, retries with backoff), without making the audit events behind them. With
 * `failedAt`, they are out of retries instead, all failed at that instant.
 */
export async function queueWebhookEvents(query: Query, userId: string, count: number, options: { failedAt?: string } = {}): Promise<void> {
  await query(
    `INSERT INTO pgboss.job (id, name, data, retry_limit, retry_delay, retry_backoff, expire_in, state, completed_on, output)
     SELECT event.id, $1, jsonb_build_object('type', 'session.created', 'id', event.id, 'timestamp', now(),
              'data', jsonb_build_object('userId', $2::text, 'googleUserId', NULL, 'status', NULL)),
            12, 1, true, interval '60 seconds',
            CASE WHEN $4::timestamptz IS NULL THEN 'created' ELSE 'failed' END::pgboss.job_state, $4::timestamptz,
            CASE WHEN $4::timestamptz IS NULL THEN NULL ELSE '{"message": "webhook receiver answered 503"}'::jsonb END
       FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, $3::int)) AS event`,
    [WEBHOOK_QUEUE, userId, count, options.failedAt ?? null],
  );
}
