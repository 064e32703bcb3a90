import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describeError } from '../database/database-error';

export type GoogleEndpoint = 'token' | 'refresh' | 'userinfo' | 'revoke' | 'jwks' | 'calendar';
export type GoogleCallOutcome = 'ok' | 'error' | 'timeout';
/** A delivery attempt: taken (2xx), failed with a retry to come, or failed for the last time. */
export type WebhookOutcome = 'delivered' | 'failed_will_retry' | 'exhausted';
/** Why an attempt failed (or 'ok'): the receiver's status class, a timeout, a refused connection, anything else. */
export type WebhookFailure = 'ok' | 'status_3xx' | 'status_4xx' | 'status_5xx' | 'timeout' | 'refused' | 'error';

export interface WebhookBacklog {
  waiting: number;
  retrying: number;
  oldestSeconds: number;
}

// Seconds. HTTP answers are mostly sub-10ms; Google calls sit between 50ms and the 5s timeout.
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const GOOGLE_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Reason codes are a closed set; anything else is folded so a caller's bug cannot explode the series count. */
const REASON = /^[a-z][a-z0-9_]{0,39}$/;
const reason = (outcome: string) => (REASON.test(outcome) ? outcome : 'other');

/**
 * The service's Prometheus metrics. Other modules only call these methods; how they are
 * recorded and exposed (GET /metrics) belongs to MetricsModule. The registry belongs to this
 * instance, not prom-client's global one, so two applications in one process never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly logger = new Logger(MetricsService.name);

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly googleDuration = new Histogram({
    name: 'google_api_request_duration_seconds',
    help: 'Latency of calls to Google endpoints, by endpoint and outcome',
    labelNames: ['endpoint', 'outcome'] as const,
    buckets: GOOGLE_BUCKETS,
    registers: [this.registry],
  });
  private readonly googleErrors = new Counter({
    name: 'google_api_errors_total',
    help: 'Calls to Google that failed or timed out, by endpoint and outcome',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly linkOutcomes = new Counter({
    name: 'google_link_outcomes_total',
    help: 'Google account link callbacks, by outcome (success or the reason code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly loginOutcomes = new Counter({
    name: 'google_login_outcomes_total',
    help: 'Sign-ins with Google (callback or token exchange), by outcome (success or the reason code)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly tokenRefreshes = new Counter({
    name: 'google_token_refreshes_total',
    help: 'Access-token refreshes at Google, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly webhookDeliveries = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome (delivered, failed_will_retry, exhausted) and reason',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  private activeLinks?: Gauge;
  private webhookBacklog?: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status_code: statusCode });
    this.httpDuration.observe({ method, route }, seconds);
  }

  googleCall(endpoint: GoogleEndpoint, outcome: GoogleCallOutcome, seconds: number): void {
    this.googleDuration.observe({ endpoint, outcome }, seconds);
    if (outcome !== 'ok') this.googleErrors.inc({ endpoint, outcome });
  }

  /** A link callback's outcome: 'success' or a reason code. */
  linkOutcome(outcome: string): void {
    this.linkOutcomes.inc({ outcome: reason(outcome) });
  }

  /** A sign-in's outcome (callback or token exchange): 'success' or a reason code. */
  loginOutcome(outcome: string): void {
    this.loginOutcomes.inc({ outcome: reason(outcome) });
  }

  tokenRefresh(outcome: 'ok' | 'invalid_grant' | 'error'): void {
    this.tokenRefreshes.inc({ outcome });
  }

  /**
   * Exposes `google_active_links`, read from `count` at each scrape. A failing count (database
   * down) keeps the last value and logs, rather than failing the whole GET /metrics.
   */
  registerActiveLinksCollector(count: () => Promise<number>): void {
    if (this.activeLinks) throw new Error('The active-links collector is already registered');
    const logger = this.logger;
    this.activeLinks = new Gauge({
      name: 'google_active_links',
      help: 'Google accounts currently linked with status active',
      registers: [this.registry],
      async collect() {
        try {
          this.set(await count());
        } catch (error) {
          logger.warn(`Could not count active links: ${describeError(error)}`);
        }
      },
    });
  }

  webhookDelivery(outcome: WebhookOutcome, failure: WebhookFailure): void {
    this.webhookDeliveries.inc({ outcome, reason: failure });
  }

  /**
   * Exposes `webhook_queue_jobs{state}` and `webhook_oldest_undelivered_seconds`, read from `read`
   * at each scrape. Both gauges collect in parallel and share the one read in flight. A failing
   * read keeps the last values and logs, rather than failing the whole GET /metrics.
   */
  registerWebhookBacklogCollector(read: () => Promise<WebhookBacklog>): void {
    if (this.webhookBacklog) throw new Error('The webhook backlog collector is already registered');
    const logger = this.logger;
    let inFlight: Promise<WebhookBacklog | undefined> | undefined;
    const shared = () =>
      (inFlight ??= read()
        .catch((error: unknown) => {
          logger.warn(`Could not read the webhook queue: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        })
        .finally(() => (inFlight = undefined)));
    this.webhookBacklog = new Gauge({
      name: 'webhook_queue_jobs',
      help: 'Webhook deliveries waiting for their first attempt (waiting) or for a retry (retrying)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const backlog = await shared();
        if (!backlog) return;
        this.set({ state: 'waiting' }, backlog.waiting);
        this.set({ state: 'retrying' }, backlog.retrying);
      },
    });
    new Gauge({
      name: 'webhook_oldest_undelivered_seconds',
      help: 'Age in seconds of the oldest webhook not yet delivered or given up (0 when there is none)',
      registers: [this.registry],
      async collect() {
        const backlog = await shared();
        if (backlog) this.set(backlog.oldestSeconds);
      },
    });
  }

  /** The exposition text for GET /metrics. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
