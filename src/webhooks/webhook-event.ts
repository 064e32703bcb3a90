/** The queue of webhook deliveries (created by the JobQueue migration). */
export const WEBHOOK_QUEUE = 'webhook-delivery';

/** Retries with backoff: delay × 2^(n-1) (pg-boss adds up to as much again at random), 12 times ≥ 34 h at 30 s. */
export const WEBHOOK_RETRY_LIMIT = 12;

/** One delivery, as the SPEC's "Webhooks" section defines its body: no token, code or email. */
export interface WebhookEvent {
  type: string;
  id: string;
  timestamp: string;
  data: { userId: string; googleUserId: string | null; status: string | null };
}
