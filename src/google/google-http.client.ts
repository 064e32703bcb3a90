import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GoogleCallOutcome, GoogleEndpoint, MetricsService } from '../metrics/metrics.service';
import { GoogleRejectedError, GoogleUnavailableError } from './google-errors';

export interface GoogleRequest {
  method: 'GET' | 'POST';
  url: string;
  form?: Record<string, string>;
  bearer?: string;
}

/**
 * The one way this service speaks HTTP to Google: a timeout on every call (GOOGLE_HTTP_TIMEOUT_MS),
 * metrics, and failures sorted into "unavailable" (retry later) and "rejected" (Google said no).
 * No business rules here.
 */
@Injectable()
export class GoogleHttpClient {
  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async json<T>(endpoint: GoogleEndpoint, request: GoogleRequest): Promise<T> {
    const started = performance.now();
    let outcome: GoogleCallOutcome = 'error';
    try {
      const response = await this.send(endpoint, request);
      const text = await response.text();
      const body = this.parse(text);
      if (response.status >= 500 || response.status === 429) throw new GoogleUnavailableError(endpoint, `HTTP ${response.status}`);
      if (response.status >= 400) throw new GoogleRejectedError(endpoint, response.status, this.errorCode(body, response.status));
      if (body === undefined || typeof body !== 'object' || body === null) throw new GoogleUnavailableError(endpoint, 'the answer is not a JSON object');
      outcome = 'ok';
      return body as T;
    } catch (error) {
      if (error instanceof GoogleUnavailableError && error.reason === 'timeout') outcome = 'timeout';
      throw error;
    } finally {
      this.metrics.googleCall(endpoint, outcome, (performance.now() - started) / 1000);
    }
  }

  private async send(endpoint: GoogleEndpoint, request: GoogleRequest): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.bearer) headers.authorization = `Bearer ${request.bearer}`;
    if (request.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const signal = AbortSignal.timeout(this.config.google.httpTimeoutMs);
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers,
        body: request.form ? new URLSearchParams(request.form).toString() : undefined,
        signal,
        redirect: 'error',
      });
      return response;
    } catch (error) {
      const timedOut = signal.aborted || (error as Error)?.name === 'TimeoutError';
      throw new GoogleUnavailableError(endpoint, timedOut ? 'timeout' : 'network error');
    }
  }

  private parse(text: string): unknown {
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      return undefined;
    }
  }

  /** OAuth errors are `{ error: "invalid_grant" }`; Google APIs nest them: `{ error: { status, errors: [{ reason }] } }`. */
  private errorCode(body: unknown, status: number): string {
    const error = (body as { error?: unknown } | undefined)?.error;
    if (typeof error === 'string') return error;
    const reason = (error as { errors?: Array<{ reason?: unknown }> } | undefined)?.errors?.[0]?.reason;
    if (typeof reason === 'string') return reason;
    const apiStatus = (error as { status?: unknown } | undefined)?.status;
    return typeof apiStatus === 'string' ? apiStatus : `http_${status}`;
  }
}
