import { createServer, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Haproxy, hasHaproxy } from '../support/haproxy';
import { HttpClient } from '../support/http-client';
import { inCi } from '../support/pgbouncer';

const CALLBACK = '/api/v1/auth/google/callback';

/**
 * A stand-in instance behind deploy/haproxy.cfg: healthy; it answers a callback with a redirect and a
 * DELETE with 204, except one that reaches it on a kept-alive connection, which it closes unanswered:
 * the connection of an instance that died after its previous answer, which HAProxy had not seen closed
 * yet. HAProxy retries neither (a write may have been done, a callback's state is single use).
 */
class StandIn {
  /** For each callback or DELETE: how many requests its connection had carried, itself included. */
  readonly sentOnce: number[] = [];
  private readonly carried = new WeakMap<Socket, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(readonly server: Server) {}

  static async start(): Promise<StandIn> {
    const server = createServer({ keepAliveTimeout: 30_000 });
    const standIn = new StandIn(server);
    server.on('connection', (socket) => {
      standIn.sockets.add(socket);
      socket.once('close', () => standIn.sockets.delete(socket));
    });
    server.on('request', (request, response) => {
      const carried = (standIn.carried.get(request.socket) ?? 0) + 1;
      standIn.carried.set(request.socket, carried);
      const callback = request.url?.startsWith(CALLBACK) ?? false;
      if (!callback && request.method !== 'DELETE') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      standIn.sentOnce.push(carried);
      if (carried > 1) return void request.socket.destroy();
      if (callback) response.writeHead(302, { location: 'http://web.example/signed-in' }).end();
      else response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  get url(): string {
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** Gone at once, as a SIGKILL leaves it: port closed, connections cut. */
  async kill(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

const describeHaproxy = hasHaproxy || inCi ? describe : describe.skip;

describeHaproxy('deploy/haproxy.cfg: the OAuth callback and writes (never retried) are always sent on a new connection (e2e, stand-in instances)', () => {
  let standIns: StandIn[];
  let balancer: Haproxy;

  beforeEach(async () => {
    standIns = [await StandIn.start(), await StandIn.start()];
    const reserved = await Haproxy.reserve();
    balancer = await Haproxy.start(
      reserved.port,
      standIns.map((standIn) => standIn.url),
    );
  });
  afterEach(async () => {
    await balancer?.stop();
    for (const standIn of standIns ?? []) await standIn.kill();
  });

  it('callbacks and DELETEs on one kept-alive client connection each reach an instance on a connection of their own, and are all answered', async () => {
    const browser = new HttpClient(balancer.url);
    const statuses: number[] = [];

    for (let round = 0; round < 6; round += 1) {
      statuses.push((await browser.get(`${CALLBACK}?state=s${round}&code=c`)).status);
      statuses.push((await browser.get('/api/v1/users/me')).status);
      statuses.push((await browser.delete('/api/v1/users/me/google')).status);
    }

    expect(statuses).toEqual(Array(6).fill([302, 200, 204]).flat());
    expect([...standIns[0].sentOnce, ...standIns[1].sentOnce]).toEqual(Array(12).fill(1));
  });

  it('a callback sent to an instance that has just died (health checks not yet failed) is answered by the other', async () => {
    const browser = new HttpClient(balancer.url);
    expect((await browser.get(`${CALLBACK}?state=before&code=c`)).status).toBe(302);
    expect((await browser.get(`${CALLBACK}?state=before&code=c`)).status).toBe(302);

    await standIns[1].kill();
    // Sent at once, before HAProxy's health checks (every second, out after two failures) could take it out.
    expect(balancer.transitions('app2')).toEqual([]);
    const replies = await Promise.all(Array.from({ length: 4 }, (_, callback) => browser.get(`${CALLBACK}?state=s${callback}&code=c`)));

    expect(replies.map((reply) => reply.status)).toEqual(Array(4).fill(302));
    expect(standIns[0].sentOnce).toHaveLength(1 + 4);
  });
});
