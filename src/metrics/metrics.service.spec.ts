import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** The value of one sample line, e.g. `google_link_outcomes_total{outcome="success"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('MetricsService', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('counts link, sign-in and refresh outcomes by reason', async () => {
    const metrics = new MetricsService();

    metrics.linkOutcome('success');
    metrics.linkOutcome('success');
    metrics.linkOutcome('missing_scopes');
    metrics.loginOutcome('domain_not_allowed');
    metrics.tokenRefresh('invalid_grant');
    const text = await metrics.scrape();

    expect(sample(text, 'google_link_outcomes_total{outcome="success"}')).toBe(2);
    expect(sample(text, 'google_link_outcomes_total{outcome="missing_scopes"}')).toBe(1);
    expect(sample(text, 'google_login_outcomes_total{outcome="domain_not_allowed"}')).toBe(1);
    expect(sample(text, 'google_token_refreshes_total{outcome="invalid_grant"}')).toBe(1);
  });

  it('folds an outcome that is not a reason code into "other", so labels stay a closed set', async () => {
    const metrics = new MetricsService();

    metrics.loginOutcome('Bearer ya29.something-secret');
    const text = await metrics.scrape();

    expect(sample(text, 'google_login_outcomes_total{outcome="other"}')).toBe(1);
    expect(text).not.toContain('ya29');
  });

  it('times every Google call and counts only failures as errors', async () => {
    const metrics = new MetricsService();

    metrics.googleCall('token', 'ok', 0.2);
    metrics.googleCall('token', 'timeout', 5);
    metrics.googleCall('revoke', 'error', 0.1);
    const text = await metrics.scrape();

    expect(sample(text, 'google_api_request_duration_seconds_count{endpoint="token",outcome="ok"}')).toBe(1);
    expect(sample(text, 'google_api_request_duration_seconds_sum{endpoint="token",outcome="timeout"}')).toBe(5);
    expect(sample(text, 'google_api_errors_total{endpoint="token",outcome="timeout"}')).toBe(1);
    expect(sample(text, 'google_api_errors_total{endpoint="revoke",outcome="error"}')).toBe(1);
    expect(sample(text, 'google_api_errors_total{endpoint="token",outcome="ok"}')).toBeUndefined();
  });

  it('keeps each instance on its own registry, so two applications in one process do not collide', async () => {
    const first = new MetricsService();
    const second = new MetricsService();

    first.httpRequest('GET', '/health/live', 200, 0.001);
    const [one, other] = await Promise.all([first.scrape(), second.scrape()]);

    expect(sample(one, 'http_requests_total{method="GET",route="/health/live",status_code="200"}')).toBe(1);
    expect(sample(other, 'http_requests_total{method="GET",route="/health/live",status_code="200"}')).toBeUndefined();
    expect(other).toContain('process_cpu_seconds_total');
  });

  it('reads active links at scrape time, and keeps the last value when counting fails', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const metrics = new MetricsService();
    let count: () => Promise<number> = async () => 7;
    metrics.registerActiveLinksCollector(() => count());

    const before = await metrics.scrape();
    count = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    };
    const during = await metrics.scrape();

    expect(sample(before, 'google_active_links')).toBe(7);
    expect(sample(during, 'google_active_links')).toBe(7);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
    expect(() => metrics.registerActiveLinksCollector(async () => 0)).toThrow(/already registered/);
  });

  it('shows no active-links gauge until a collector is registered, rather than a false 0', async () => {
    const text = await new MetricsService().scrape();

    expect(text).not.toContain('google_active_links');
  });

  it('counts webhook deliveries by outcome and reason', async () => {
    const metrics = new MetricsService();
    metrics.webhookDelivery('delivered', 'ok');
    metrics.webhookDelivery('failed_will_retry', 'status_5xx');
    metrics.webhookDelivery('failed_will_retry', 'status_5xx');
    metrics.webhookDelivery('exhausted', 'timeout');
    const text = await metrics.scrape();
    expect(sample(text, 'webhook_deliveries_total{outcome="delivered",reason="ok"}')).toBe(1);
    expect(sample(text, 'webhook_deliveries_total{outcome="failed_will_retry",reason="status_5xx"}')).toBe(2);
    expect(sample(text, 'webhook_deliveries_total{outcome="exhausted",reason="timeout"}')).toBe(1);
  });

  it('reads the webhook backlog once per scrape for both gauges, and keeps the last values when the read fails', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const metrics = new MetricsService();
    let reads = 0;
    let fail = false;
    metrics.registerWebhookBacklogCollector(async () => {
      reads += 1;
      if (fail) throw new Error('Connection terminated');
      return { waiting: 3, retrying: 2, oldestSeconds: 42.5 };
    });
    const before = await metrics.scrape();
    fail = true;
    const during = await metrics.scrape();
    expect(reads).toBe(2);
    for (const text of [before, during]) {
      expect(sample(text, 'webhook_queue_jobs{state="waiting"}')).toBe(3);
      expect(sample(text, 'webhook_queue_jobs{state="retrying"}')).toBe(2);
      expect(sample(text, 'webhook_oldest_undelivered_seconds')).toBe(42.5);
    }
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Connection terminated'));
  });
});
