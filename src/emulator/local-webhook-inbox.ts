import { Webhook } from 'standardwebhooks';

/** One POST the local receiver got, as the page and GET …/received show it. */
export interface ReceivedWebhook {
  receivedAt: string;
  /** `webhook-id`: the audit event id; the same id again is a redelivery (at least once). */
  id: string | null;
  /** How many deliveries of this id the receiver has seen, this one included. */
  delivery: number;
  type: string | null;
  timestamp: string | null;
  data: { userId?: unknown; googleUserId?: unknown; status?: unknown } | null;
  /** Whether the Standard Webhooks signature verified with the configured secret; `problem` says why not. */
  verified: boolean;
  problem?: string;
}

const KEPT = 100;
const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * Local mode's stand-in for the web app's webhook receiver: verifies each POST exactly as a receiver
 * should (the Standard Webhooks library over the raw body, with the secret) and keeps the last 100 in
 * this instance's memory, newest first.
 */
export class LocalWebhookInbox {
  private readonly received: ReceivedWebhook[] = [];
  private readonly deliveries = new Map<string, number>();
  private readonly verifier: Webhook;

  constructor(secret: string) {
    this.verifier = new Webhook(secret);
  }

  /** Records the POST, verified or not; the entry says which (the receiver answers 204 or 400). */
  receive(rawBody: Buffer | undefined, headers: Record<string, string | string[] | undefined>): ReceivedWebhook {
    const signed = {
      'webhook-id': header(headers['webhook-id']) ?? '',
      'webhook-timestamp': header(headers['webhook-timestamp']) ?? '',
      'webhook-signature': header(headers['webhook-signature']) ?? '',
    };
    let payload: unknown;
    let problem: string | undefined;
    try {
      payload = this.verifier.verify(rawBody ?? Buffer.alloc(0), signed);
    } catch (error) {
      problem = error instanceof Error ? error.message : 'signature did not verify';
    }
    const event = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
    const id = signed['webhook-id'] || null;
    const delivery = id ? (this.deliveries.get(id) ?? 0) + 1 : 1;
    if (id) this.deliveries.set(id, delivery);
    const entry: ReceivedWebhook = {
      receivedAt: new Date().toISOString(),
      id,
      delivery,
      type: typeof event.type === 'string' ? event.type : null,
      timestamp: typeof event.timestamp === 'string' ? event.timestamp : null,
      data: typeof event.data === 'object' && event.data !== null ? event.data : null,
      verified: problem === undefined,
      ...(problem === undefined ? {} : { problem }),
    };
    this.received.unshift(entry);
    if (this.received.length > KEPT) this.received.length = KEPT;
    if (this.deliveries.size > KEPT * 10) this.deliveries.clear();
    return entry;
  }

  list(): ReceivedWebhook[] {
    return [...this.received];
  }
}
