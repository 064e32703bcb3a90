/** The queue of webhook deliveries (created by the JobQueue migration). */
export const WEBHOOK_QUEUE = 'webhook-delivery';

/** One delivery, as the SPEC's "Webhooks" section defines its body: no token, code or email. */
export interface WebhookEvent {
  type: string;
  id: string;
  timestamp: string;
  data: { userId: string; googleUserId: string | null; status: string | null };
}
