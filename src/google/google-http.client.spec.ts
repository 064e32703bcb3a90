import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { GoogleRejectedError, GoogleUnavailableError } from './google-errors';
import { GoogleHttpClient } from './google-http.client';

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

describe('GoogleHttpClient', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  let client: GoogleHttpClient;
  const connections = new Set<string>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      connections.add(`${request.socket.remotePort}`);
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => handler(request, response, body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    connections.clear();
    const config = { google: { httpTimeoutMs: 200 } } as AppConfig;
    client = new GoogleHttpClient(config, new MetricsService());
  });

  afterEach(() => client.onApplicationShutdown());

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const json =
    (status: number, body: unknown): Handler =>
    (_request, response) =>
      void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('posts the form and answers the JSON, reusing one kept-alive connection', async () => {
    let seen: { method?: string; type?: string; body?: string } = {};
    handler = (request, response, body) => {
      seen = { method: request.method, type: request.headers['content-type'], body };
      json(200, { access_token: 'a' })(request, response, body);
    };

    const first = await client.json<{ access_token: string }>('token', {
      method: 'POST',
      url: `${url}/token`,
      form: { grant_type: 'refresh_token', refresh_token: 'r t' },
    });
    await client.json('token', { method: 'POST', url: `${url}/token`, form: { grant_type: 'refresh_token' } });

    expect(first).toEqual({ access_token: 'a' });
    expect(seen.method).toBe('POST');
    expect(seen.type).toBe('application/x-www-form-urlencoded');
    expect(connections.size).toBe(1);
  });

  it('sends the access token as a Bearer header', async () => {
    let authorization: string | undefined;
    handler = (request, response, body) => {
      authorization = request.headers.authorization;
      json(200, {})(request, response, body);
    };

    await client.json('calendar', { method: 'GET', url: `${url}/events`, bearer: 'ya29.token' });

    expect(authorization).toBe('Bearer ya29.token');
  });

  it('sorts a refusal from an outage', async () => {
    handler = json(400, { error: 'invalid_grant' });
    await expect(client.json('refresh', { method: 'POST', url: `${url}/token`, form: {} })).rejects.toEqual(
      new GoogleRejectedError('refresh', 400, 'invalid_grant'),
    );

    handler = json(503, {});
    await expect(client.json('refresh', { method: 'POST', url: `${url}/token`, form: {} })).rejects.toBeInstanceOf(GoogleUnavailableError);
  });

  it('never follows a redirect', async () => {
    handler = (_request, response) => void response.writeHead(302, { location: `${url}/elsewhere` }).end();

    await expect(client.json('userinfo', { method: 'GET', url: `${url}/userinfo` })).rejects.toMatchObject({ reason: 'network error' });
  });

  it('gives up after the timeout, answer included', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"slow":');
    };

    await expect(client.json('calendar', { method: 'GET', url: `${url}/events` })).rejects.toMatchObject({ reason: 'timeout' });
  });

  it('reports a connection cut before the answer as a network error', async () => {
    handler = (request) => request.socket.destroy();

    await expect(client.json('revoke', { method: 'POST', url: `${url}/revoke`, form: { token: 't' } })).rejects.toMatchObject({ reason: 'network error' });
  });
});
