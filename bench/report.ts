import type { QueryPlan } from './query-plans';

export interface ScenarioResult {
  name: string;
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** requestsPerSecond / the baseline's; null for the baseline itself and the link round trips. */
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  peakRssMb: number;
  /** CPU time the serving process spent per request (per round trip for links): robust to a busy machine. */
  cpuMsPerRequest: number;
  requests: number;
  failures: number;
  notes?: string;
}

export interface BenchReport {
  command: string;
  date: string;
  machine: Record<string, string | number>;
  options: Record<string, unknown>;
  seed?: Record<string, number>;
  scenarios: ScenarioResult[];
  rss: { peakMb: number; highWaterMarkMb: number; targetMb: number; met: boolean };
  plans?: QueryPlan[];
}

const cell = (value: string, width: number, right = true) => (right ? value.padStart(width) : value.padEnd(width));
const number = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The one table: throughput, latency, the ratio to the bare node:http baseline, the target. */
export function formatTable(report: BenchReport): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', '× baseline', 'target', 'met', 'CPU µs/req', 'RSS MB'];
  const rows = report.scenarios.map((scenario) => [
    scenario.label,
    number(scenario.requestsPerSecond),
    number(scenario.p50Ms, 1),
    number(scenario.p99Ms, 1),
    scenario.ratio === null ? '' : number(scenario.ratio, 2),
    scenario.target ?? '',
    scenario.met === null ? '' : scenario.met ? 'yes' : 'NO',
    scenario.cpuMsPerRequest ? number(scenario.cpuMsPerRequest * 1000) : '',
    scenario.peakRssMb ? number(scenario.peakRssMb) : '',
  ]);
  rows.push([
    'service peak RSS (sampled / VmHWM)',
    '',
    '',
    '',
    '',
    `≤ ${report.rss.targetMb} MB`,
    report.rss.met ? 'yes' : 'NO',
    '',
    `${number(report.rss.peakMb)} / ${number(report.rss.highWaterMarkMb)}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((value, column) => cell(value, widths[column], column > 0)).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column > 0 ? '-'.repeat(width + 1) + ':' : '-'.repeat(width + 2))).join('|')}|`;
  const failures = report.scenarios
    .filter((scenario) => scenario.failures > 0)
    .map((scenario) => `${scenario.label}: ${scenario.failures} failed requests${scenario.notes ? ` (${scenario.notes})` : ''}`);
  return [line(header), rule, ...rows.map(line), ...failures].join('\n');
}
