import { createServer, IncomingHttpHeaders, Server } from 'node:http';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A web app's webhook endpoint on loopback: records every POST and answers what `answer` says
 * (200 unless told otherwise), after `delayMs`.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (body: string, attempt: number) => number = () => 200;
  delayMs = 0;
  /** The most deliveries of one webhook-id seen in flight at once. */
  maxInFlightPerId = 0;
  private readonly inFlight = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on(
        'end',
        () => void holder.receiver!.handle(request.headers, Buffer.concat(chunks).toString('utf8'), (status) => response.writeHead(status).end()),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/hooks`);
    return holder.receiver;
  }

  /** Deliveries of events of `type` for `userId`, in arrival order. */
  deliveries(userId: string, type?: string): ReceivedWebhook[] {
    return this.received.filter((hook) => {
      const event = JSON.parse(hook.body) as { type: string; data: { userId: string } };
      return event.data.userId === userId && (!type || event.type === type);
    });
  }

  /**
   * Waits until `count` deliveries match, or `ms` pass (a bound for a hang, under the test's timeout),
   * and returns what matched then: too few fail the test's own assertions, with the difference shown.
   */
  async waitFor(match: () => ReceivedWebhook[], count = 1, ms = 30_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + ms;
    while (match().length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    return match();
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(headers: IncomingHttpHeaders, body: string, reply: (status: number) => void): Promise<void> {
    const id = String(headers['webhook-id']);
    const current = (this.inFlight.get(id) ?? 0) + 1;
    this.inFlight.set(id, current);
    this.maxInFlightPerId = Math.max(this.maxInFlightPerId, current);
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const attempt = this.received.filter((hook) => hook.headers['webhook-id'] === id).length + 1;
    const status = this.answer(body, attempt);
    this.received.push({ headers, body, status });
    this.inFlight.set(id, current - 1);
    reply(status);
  }
}
