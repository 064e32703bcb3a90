import { Injectable } from '@nestjs/common';

export type GoogleEndpoint = 'token' | 'refresh' | 'userinfo' | 'revoke' | 'jwks' | 'calendar';
export type GoogleCallOutcome = 'ok' | 'error' | 'timeout';

/**
 * The service's Prometheus metrics. Other modules only call these methods; how they are
 * recorded and exposed (GET /metrics) belongs to MetricsModule.
 */
@Injectable()
export class MetricsService {
  googleCall(_endpoint: GoogleEndpoint, _outcome: GoogleCallOutcome, _seconds: number): void {}

  /** A link callback's outcome: 'success' or a reason code. */
  linkOutcome(_outcome: string): void {}

  /** A sign-in's outcome (callback or token exchange): 'success' or a reason code. */
  loginOutcome(_outcome: string): void {}

  tokenRefresh(_outcome: 'ok' | 'invalid_grant' | 'error'): void {}
}
