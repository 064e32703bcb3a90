import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { subForEmail } from '../../src/emulator/emulator-account';
import type { CalendarEvent } from '../../src/emulator/emulator-calendar';
import { EmulatorSigningKey } from '../../src/emulator/emulator-signing-key';
import type { ConsentDecision, EmulatorClient, EmulatorResponse, Params } from '../../src/emulator/emulator.types';
import { GoogleEmulator } from '../../src/emulator/google-emulator';

export type FakeEndpoint = 'authorize' | 'token' | 'refresh' | 'userinfo' | 'revoke' | 'jwks' | 'calendar' | 'discovery' | 'certs' | 'tokeninfo';
export type Fault =
  | { status: number; body?: unknown } // answer with this status (and JSON body)
  | { delayMs: number } // answer normally but only after this delay (for timeouts)
  | { garbage: true } // 200 with a non-JSON / nonsense body
  | { close: true }; // destroy the socket without answering
export type ConsentChoice = ConsentDecision;
export interface RecordedRequest {
  endpoint: FakeEndpoint;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  form: Record<string, string>;
}

const AUTHORIZE_PATH = '/o/oauth2/v2/auth';
const CALENDAR_EVENTS = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/;
const GARBAGE = '<html><body>502. That’s an error. {"access_token":';

interface Route {
  endpoint: FakeEndpoint;
  answer: () => EmulatorResponse | { html: string; status: number; location?: string };
}

/**
 * Google for the e2e tests: the same protocol core as the in-app emulator, served over node:http on
 * loopback, with a scripted person at the consent screen, fault injection and request recording.
 */
export class FakeGoogle {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly issuer: string;
  private readonly core: GoogleEmulator;
  private readonly client: EmulatorClient;
  private readonly sockets = new Set<Socket>();
  private readonly delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly faults = new Map<FakeEndpoint, Array<{ fault: Fault; remaining: number }>>();
  private recorded: RecordedRequest[] = [];
  private stopped = false;
  private foreignKey?: EmulatorSigningKey;

  private constructor(
    private readonly server: Server,
    options: { clientId: string; clientSecret: string; issuer: string | ((url: string) => string) },
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.clientId = options.clientId;
    this.clientSecret = options.clientSecret;
    this.issuer = typeof options.issuer === 'function' ? options.issuer(this.url) : options.issuer;
    this.client = { clientId: this.clientId, clientSecret: this.clientSecret };
    this.core = new GoogleEmulator({ issuer: this.issuer, baseUrl: this.url, clients: [this.client] });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (request, response) => void this.handle(request, response));
  }

  /** `issuer`: Google's by default; a function of the fake's URL for an issuer of its own (as the in-app emulator has). */
  static async start(options: { clientId?: string; clientSecret?: string; issuer?: string | ((url: string) => string) } = {}): Promise<FakeGoogle> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new FakeGoogle(server, {
      clientId: options.clientId ?? 'test-client.apps.googleusercontent.com',
      clientSecret: options.clientSecret ?? `GOCSPX-${randomBytes(18).toString('base64url')}`,
      issuer: options.issuer ?? 'https://accounts.google.com',
    });
  }

  /** The registered redirect URI; when undefined any is accepted. */
  get redirectUri(): string | undefined {
    return this.client.redirectUris?.[0];
  }
  set redirectUri(uri: string | undefined) {
    this.client.redirectUris = uri === undefined ? undefined : [uri];
  }

  get accessTokenTtlSeconds(): number {
    return this.core.accessTokenTtlSeconds;
  }
  set accessTokenTtlSeconds(seconds: number) {
    this.core.accessTokenTtlSeconds = seconds;
  }

  /** When true, refresh responses carry a new refresh_token and the old one becomes invalid. */
  get rotateRefreshTokens(): boolean {
    return this.core.rotateRefreshTokens;
  }
  set rotateRefreshTokens(rotate: boolean) {
    this.core.rotateRefreshTokens = rotate;
  }

  /** When set, caps maxResults so pagination kicks in. */
  get eventsPageSize(): number | undefined {
    return this.core.calendar.pageSize;
  }
  set eventsPageSize(size: number | undefined) {
    this.core.calendar.pageSize = size;
  }

  env(): Record<string, string> {
    return {
      GOOGLE_CLIENT_ID: this.clientId,
      GOOGLE_CLIENT_SECRET: this.clientSecret,
      GOOGLE_AUTHORIZATION_URL: `${this.url}${AUTHORIZE_PATH}`,
      GOOGLE_TOKEN_URL: `${this.url}/token`,
      GOOGLE_USERINFO_URL: `${this.url}/v1/userinfo`,
      GOOGLE_REVOKE_URL: `${this.url}/revoke`,
      GOOGLE_JWKS_URL: `${this.url}/oauth2/v3/certs`,
      GOOGLE_ISSUER: this.issuer,
      GOOGLE_CALENDAR_API_URL: `${this.url}/calendar/v3`,
    };
  }

  /**
   * Plays the person at the consent screen for this authorization URL: validates it as GET
   * /o/oauth2/v2/auth does and returns where Google would send the browser. Throws when Google
   * would show an error page instead (unknown client, unregistered redirect URI, an injected fault).
   */
  async consent(authorizationUrl: string, choice: ConsentChoice): Promise<string> {
    const url = new URL(authorizationUrl);
    if (`${url.origin}${url.pathname}` !== `${this.url}${AUTHORIZE_PATH}`) {
      throw new Error(`Not this fake's authorization endpoint: ${url.origin}${url.pathname}`);
    }
    const query = Object.fromEntries(url.searchParams);
    this.recorded.push({ endpoint: 'authorize', method: 'GET', path: url.pathname, query, headers: {}, form: {} });
    const fault = this.takeFault('authorize');
    if (fault && 'delayMs' in fault) await this.delay(fault.delayMs);
    else if (fault) throw new Error(`Google failed the authorization request (injected fault ${JSON.stringify(fault)})`);
    const outcome = this.core.authorize(query);
    if (outcome.kind === 'error-page') throw new Error(`Google refused the authorization request: ${outcome.error}: ${outcome.description}`);
    if (outcome.kind === 'redirect') return outcome.location;
    return this.core.authorization.decide(outcome.request, choice);
  }

  /** The next `times` requests to the endpoint fail this way; `times: Infinity` until clearFaults(). */
  fail(endpoint: FakeEndpoint, fault: Fault, times = 1): void {
    const queue = this.faults.get(endpoint) ?? [];
    queue.push({ fault, remaining: times });
    this.faults.set(endpoint, queue);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  requests(endpoint?: FakeEndpoint): RecordedRequest[] {
    return this.recorded.filter((request) => endpoint === undefined || request.endpoint === endpoint);
  }

  resetRequests(): void {
    this.recorded = [];
  }

  /**
   * An ID token signed with the fake's key (or, with foreignKey, a key not in its JWKS but naming
   * the real kid, so only the signature gives it away). `claims` override the defaults; an
   * undefined value removes the claim.
   */
  async signIdToken(claims: Record<string, unknown> = {}, options: { foreignKey?: boolean; kid?: string; alg?: string } = {}): Promise<string> {
    const email = 'email' in claims ? claims.email : `person-${randomBytes(5).toString('hex')}@example.com`;
    const issuedAt = Math.floor(Date.now() / 1000);
    const merged: Record<string, unknown> = {
      iss: this.issuer,
      azp: this.clientId,
      aud: this.clientId,
      sub: subForEmail(String(email)),
      email,
      email_verified: true,
      iat: issuedAt,
      exp: issuedAt + 3600,
      ...claims,
    };
    for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name];
    const key = options.foreignKey ? (this.foreignKey ??= EmulatorSigningKey.generate()) : this.core.signingKey;
    return key.sign(merged, { kid: options.kid ?? this.core.signingKey.kid, alg: options.alg });
  }

  setEvents(email: string, events: CalendarEvent[]): void {
    this.core.calendar.setEvents(email, events);
  }

  /** As if the person removed the app's access in their Google Account settings. */
  revokeAllFor(email: string): void {
    this.core.grants.revokeAccount(email);
  }

  /** True when the refresh or access token still works. */
  isLive(token: string): boolean {
    return this.core.grants.isLive(token);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const delay of this.delays) {
      clearTimeout(delay.timer);
      delay.resolve();
    }
    this.delays.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', this.url);
      const form = await this.readForm(request);
      const query = Object.fromEntries(url.searchParams);
      const route = this.route(request.method ?? 'GET', url, form, request.headers.authorization);
      if (!route) return this.write(response, { status: 404, body: { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } } });
      this.recorded.push({ endpoint: route.endpoint, method: request.method ?? 'GET', path: url.pathname, query, headers: { ...request.headers }, form });
      const fault = this.takeFault(route.endpoint);
      if (fault && 'close' in fault) return void request.socket.destroy();
      if (fault && 'garbage' in fault) return void response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(GARBAGE);
      if (fault && 'status' in fault) return this.write(response, { status: fault.status, body: fault.body });
      if (fault && 'delayMs' in fault) await this.delay(fault.delayMs);
      if (this.stopped) return;
      const answer = route.answer();
      if ('html' in answer) {
        const headers = { 'content-type': 'text/html; charset=utf-8', ...(answer.location ? { location: answer.location } : {}) };
        return void response.writeHead(answer.status, headers).end(answer.html);
      }
      this.write(response, answer);
    } catch (error) {
      if (!response.headersSent && !this.stopped) this.write(response, { status: 500, body: { error: 'internal_failure', error_description: String(error) } });
    }
  }

  private route(method: string, url: URL, form: Params, authorization: string | undefined): Route | undefined {
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    if (method === 'GET' && path === AUTHORIZE_PATH) return { endpoint: 'authorize', answer: () => this.authorizePage(query) };
    if (method === 'GET' && path === '/.well-known/openid-configuration') return { endpoint: 'discovery', answer: () => this.core.discovery() };
    if (method === 'GET' && path === '/oauth2/v1/certs') return { endpoint: 'certs', answer: () => this.core.pemCerts() };
    if ((method === 'POST' || method === 'GET') && (path === '/tokeninfo' || path === '/oauth2/v3/tokeninfo')) {
      return { endpoint: 'tokeninfo', answer: () => this.core.tokeninfo({ ...query, ...form }, authorization) };
    }
    if (method === 'POST' && path === '/token') {
      return { endpoint: form.grant_type === 'refresh_token' ? 'refresh' : 'token', answer: () => this.core.token(form, authorization) };
    }
    if (method === 'GET' && (path === '/v1/userinfo' || path === '/oauth2/v3/userinfo'))
      return { endpoint: 'userinfo', answer: () => this.core.userinfo(authorization) };
    if ((method === 'POST' || method === 'GET') && path === '/revoke') return { endpoint: 'revoke', answer: () => this.core.revoke({ ...query, ...form }) };
    if (method === 'GET' && path === '/oauth2/v3/certs') return { endpoint: 'jwks', answer: () => this.core.jwks() };
    const calendar = method === 'GET' ? CALENDAR_EVENTS.exec(path) : null;
    if (calendar) return { endpoint: 'calendar', answer: () => this.core.events(authorization, decodeURIComponent(calendar[1]), url.searchParams) };
    return undefined;
  }

  /** A browser that reaches the fake directly gets no consent screen: tests play the person through consent(). */
  private authorizePage(query: Params) {
    const outcome = this.core.authorize(query);
    if (outcome.kind === 'error-page') return { status: 400, html: `<h1>Error 400: ${outcome.error}</h1>` };
    if (outcome.kind === 'redirect') return { status: 302, html: '', location: outcome.location };
    return { status: 200, html: '<h1>Fake Google consent screen</h1><p>Tests answer it with FakeGoogle.consent().</p>' };
  }

  private takeFault(endpoint: FakeEndpoint): Fault | undefined {
    const queue = this.faults.get(endpoint);
    const next = queue?.[0];
    if (!next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    return next.fault;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => (this.delays.delete(entry), resolve()), ms), resolve };
      this.delays.add(entry);
    });
  }

  private async readForm(request: IncomingMessage): Promise<Record<string, string>> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!raw) return {};
    const type = request.headers['content-type'] ?? '';
    if (type.includes('application/json')) {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([name, value]) => [name, String(value)]));
    }
    return Object.fromEntries(new URLSearchParams(raw));
  }

  private write(response: ServerResponse, answer: EmulatorResponse): void {
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.body === undefined) return void response.writeHead(answer.status, headers).end();
    response.writeHead(answer.status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));
  }
}
