import autocannon from 'autocannon';

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
  /**
   * Bearer session tokens, one per request in turn, spreading the load over many users; each user
   * comes from an address of its own (X-Forwarded-For, the service trusting its proxy), as real
   * browsers do, so per-address rate-limit counters stay as small as in production.
   */
  bearerTokens?: string[];
  /** The status every answer must have (default: any 2xx), e.g. 502 while Google hangs. */
  expectedStatus?: number;
}

/** A client address for user `n`, as a load balancer would forward it. */
export const clientAddress = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers other than 2xx, connection errors and timeouts: any of them fails the scenario. */
  non2xx: number;
  errors: number;
}

/** autocannon against one route: `connections` keep-alive connections, for `seconds`. */
export async function load(target: LoadTarget, connections: number, seconds: number): Promise<LoadResult> {
  const tokens = target.bearerTokens;
  let turn = 0;
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    headers: target.headers,
    requests: tokens?.length
      ? [
          {
            method: 'GET',
            setupRequest: (request) => {
              const user = turn++ % tokens.length;
              return { ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[user]}`, 'x-forwarded-for': clientAddress(user) } };
            },
          },
        ]
      : undefined,
  });
  const stats = (result as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  const expected = target.expectedStatus === undefined ? result['2xx'] : (stats[String(target.expectedStatus)]?.count ?? 0);
  return {
    requestsPerSecond: expected / (result.duration || seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: target.expectedStatus === undefined ? result.non2xx : result.requests.total - expected - result.errors - result.timeouts,
    errors: result.errors + result.timeouts,
  };
}
