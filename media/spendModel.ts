// Pure data shaping for the spend view: the stacked per-day series and the tables.

import type { SpendSummary } from '../daemon/protocol';

export interface Stacked {
  /** Day starts, unix seconds (UTC midnight of each YYYY-MM-DD). */
  x: number[];
  /** Series keys, largest total first. */
  keys: string[];
  /** Per key, per day: USD of that key alone. */
  values: number[][];
  /** Per key, per day: USD of this key plus every key after it (what a stacked bar draws). */
  stacked: number[][];
}

export function stackDays(summary: SpendSummary, by: 'provider' | 'site'): Stacked {
  const days = [...summary.days].sort((a, b) => a.day.localeCompare(b.day));
  const totals = new Map<string, number>();
  for (const d of days) for (const [k, v] of Object.entries(by === 'provider' ? d.byProvider : d.bySite)) totals.set(k, (totals.get(k) ?? 0) + v);
  const keys = [...totals.entries()].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const x = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const values = keys.map((k) => days.map((d) => ((by === 'provider' ? d.byProvider : d.bySite)[k] ?? 0) / 1e9));
  const stacked = keys.map((_, i) => days.map((__, j) => values.slice(i).reduce((sum, row) => sum + row[j], 0)));
  return { x, keys, values, stacked };
}

export function tableRows(record: Record<string, number>): { key: string; nanoUsd: number; share: number }[] {
  const total = Object.values(record).reduce((a, b) => a + b, 0);
  return Object.entries(record).sort((a, b) => b[1] - a[1]).map(([key, nanoUsd]) => ({ key, nanoUsd, share: total > 0 ? nanoUsd / total : 0 }));
}
