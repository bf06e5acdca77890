/** Percentiles, markdown tables and the JSON results file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './common.js';

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (ms); NaN fields when empty. */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const n = values.length;
  if (n === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { n, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1]!, mean: sum / n };
}

/** Milliseconds with a precision that suits the magnitude. */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (x < 10) return x.toFixed(2);
  if (x < 100) return x.toFixed(1);
  return Math.round(x).toLocaleString('en-US');
}

/** A rate with thousands separators. */
export function rate(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  return Math.round(x).toLocaleString('en-US');
}

export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  return `${Math.round(x)}%`;
}

/** a / b as "0.87×". */
export function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '-';
  const r = a / b;
  return `${r >= 0.1 || r === 0 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

export function mb(kb: number | null | undefined): string {
  if (kb === null || kb === undefined || Number.isNaN(kb)) return '-';
  return `${(kb / 1024).toFixed(1)} MB`;
}

/** A markdown table with padded columns (numbers right-aligned). */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.every((r) => /^[-+]?[\d.,]+(×|%| ms| MB)?$|^-$/.test(r[i] ?? '-')));
  const line = (r: string[]): string =>
    `| ${r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`, ...cells.map(line)].join('\n');
}

/** Writes bench/results/<name>-<date>.json and returns the path. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const path = join(RESULTS_DIR, `${name}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  return path;
}

/** Rounds every number in a summary for readable JSON. */
export function rounded<T extends object>(o: T, digits = 3): T {
  const f = 10 ** digits;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * f) / f : v])) as T;
}
