import { Webhook } from 'standardwebhooks';

/** The Standard Webhooks headers for one attempt (the library's signer; `timestamp` in Unix seconds). */
export function webhookHeaders(secret: string, id: string, at: Date, body: string): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}
