import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GoogleCallOutcome, GoogleEndpoint, MetricsService } from '../metrics/metrics.service';
import { GoogleRejectedError, GoogleUnavailableError } from './google-errors';

export interface GoogleRequest {
  method: 'GET' | 'POST';
  url: string;
  form?: Record<string, string>;
  bearer?: string;
}

interface GoogleResponse {
  status: number;
  text: string;
}

/**
 * The one way this service speaks HTTP to Google: a timeout on every call (GOOGLE_HTTP_TIMEOUT_MS),
 * metrics, and failures sorted into "unavailable" (retry later) and "rejected" (Google said no).
 * No business rules here. It uses node:http(s) over keep-alive agents rather than fetch, which
 * cost three to four times the CPU per call (see BENCHMARKS.md).
 */
@Injectable()
export class GoogleHttpClient implements OnApplicationShutdown {
  private readonly agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationShutdown(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  async json<T>(endpoint: GoogleEndpoint, request: GoogleRequest): Promise<T> {
    const started = performance.now();
    let outcome: GoogleCallOutcome = 'error';
    try {
      const response = await this.send(endpoint, request);
      const body = this.parse(response.text);
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

  /** Never follows a redirect (Google's endpoints do not redirect; a redirect is not Google). */
  private send(endpoint: GoogleEndpoint, request: GoogleRequest): Promise<GoogleResponse> {
    const url = new URL(request.url);
    const body = request.form ? new URLSearchParams(request.form).toString() : undefined;
    const headers: Record<string, string | number> = { accept: 'application/json' };
    if (request.bearer) headers.authorization = `Bearer ${request.bearer}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const https = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: GoogleResponse | string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (typeof outcome === 'string') {
          outgoing.destroy();
          reject(new GoogleUnavailableError(endpoint, outcome));
        } else {
          resolve(outcome);
        }
      };
      const outgoing = (https ? httpsRequest : httpRequest)(
        url,
        { method: request.method, headers, agent: this.agents[https ? 'https:' : 'http:'] },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status >= 300 && status < 400) return settle('network error');
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => settle({ status, text: Buffer.concat(chunks).toString('utf8') }));
          // A connection cut mid-answer: 'close' without 'end' (after 'end' the call is already settled).
          response.on('error', () => settle('network error'));
          response.on('close', () => settle('network error'));
        },
      );
      // The whole call, answer included, within the timeout.
      const timer = setTimeout(() => settle('timeout'), this.config.google.httpTimeoutMs);
      outgoing.on('error', () => settle('network error'));
      outgoing.end(body);
    });
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
