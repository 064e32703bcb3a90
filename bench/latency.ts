export interface LatencySummary {
  p50: number;
  p99: number;
}

/** Percentiles (nearest rank) of latencies in milliseconds. */
export function summarise(latenciesMs: number[]): LatencySummary {
  if (latenciesMs.length === 0) return { p50: 0, p99: 0 };
  const sorted = Float64Array.from(latenciesMs).sort();
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { p50: rank(0.5), p99: rank(0.99) };
}
