// Pure data shaping for the spend view: the stacked per-day series and the tables.

import type { SiteRef, SpendSummary } from '../daemon/protocol';
import { siteLabel } from './format';

export interface Stacked {
  /** Every day of the month up to the summary's day (YYYY-MM-DD), days without spend included. */
  days: string[];
  /** 0..days.length-1, the chart's x values. */
  x: number[];
  /** Series keys, largest total first. */
  keys: string[];
  /** Per key, per day: USD of that key alone. */
  values: number[][];
  /** Per key, per day: USD of this key plus every key after it (what a stacked bar draws). */
  stacked: number[][];
}

export function stackDays(summary: SpendSummary, by: 'provider' | 'site'): Stacked {
  const byDay = new Map(summary.days.map((d) => [d.day, by === 'provider' ? d.byProvider : d.bySite]));
  const days = monthDays(summary.month, summary.day);
  for (const d of byDay.keys()) if (!days.includes(d)) days.push(d);
  days.sort();
  const totals = new Map<string, number>();
  for (const record of byDay.values()) for (const [k, v] of Object.entries(record)) totals.set(k, (totals.get(k) ?? 0) + v);
  const keys = [...totals.entries()].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const values = keys.map((k) => days.map((d) => (byDay.get(d)?.[k] ?? 0) / 1e9));
  const stacked = keys.map((_, i) => days.map((__, j) => values.slice(i).reduce((sum, row) => sum + row[j], 0)));
  return { days, x: days.map((_, i) => i), keys, values, stacked };
}

/** YYYY-MM-01 .. `through` (YYYY-MM-DD) when it lies in that month. */
export function monthDays(month: string, through: string): string[] {
  if (!/^\d{4}-\d{2}$/.test(month) || !through.startsWith(`${month}-`)) return [];
  const last = Number(through.slice(8, 10));
  return Array.from({ length: last }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

export function tableRows(record: Record<string, number>): { key: string; nanoUsd: number; share: number }[] {
  const total = Object.values(record).reduce((a, b) => a + b, 0);
  return Object.entries(record).sort((a, b) => b[1] - a[1]).map(([key, nanoUsd]) => ({ key, nanoUsd, share: total > 0 ? nanoUsd / total : 0 }));
}

/**
 * What the tables and the chart call each site id that has spend: provider · region · hardware, from the
 * catalog or, for a site the catalog no longer has, from a recent receipt; the id itself when neither
 * knows it (spend outlives the catalog entry it was made at).
 */
export function siteNames(summary: SpendSummary, catalog: Record<string, SiteRef>): Record<string, string> {
  const known = new Map<string, SiteRef>(summary.recent.map((r) => [r.site.id, r.site]));
  for (const [id, site] of Object.entries(catalog)) known.set(id, site);
  const names: Record<string, string> = {};
  for (const id of Object.keys(summary.bySite)) {
    const site = known.get(id);
    names[id] = site ? siteLabel(site, true) : id;
  }
  return names;
}

/** The theme colours the chart is drawn in: a canvas keeps them, where the page's CSS follows the theme. */
export interface ChartColours {
  series: string[];
  axis: string;
  grid: string;
}

/** The chart palette's names, in the order of the legend's swatches (spend.css's .c0 to .c5), with the same fallbacks. */
const SERIES: readonly [name: string, fallback: string][] = [
  ['blue', '#3794ff'], ['orange', '#d18616'], ['green', '#89d185'], ['purple', '#b180d7'], ['yellow', '#cca700'], ['red', '#f14c4c'],
];

/** The chart's colours from the theme's CSS variables (`cssVar` reads one, '' when unset). */
export function chartColours(cssVar: (name: string) => string): ChartColours {
  return {
    series: SERIES.map(([name, fallback]) => cssVar(`--vscode-charts-${name}`).trim() || fallback),
    axis: cssVar('--vscode-foreground').trim() || '#ccc',
    grid: cssVar('--vscode-panel-border').trim() || '#444',
  };
}

/**
 * Whether a chart drawn in `drawn` needs drawing again in the theme's colours `now`. VS Code rewrites the
 * webview body's classes on every style push, and two dark themes share a class, so the colours decide.
 */
export function coloursChanged(drawn: ChartColours | undefined, now: ChartColours): boolean {
  if (!drawn) return false;
  return drawn.axis !== now.axis || drawn.grid !== now.grid || drawn.series.some((c, i) => c !== now.series[i]);
}

/**
 * The dollar axis's tick labels, each with the decimals its step needs (at least cents): ticks 0.025
 * apart read $0.125 and $0.175, where two significant digits would round them to $0.13 and $0.17.
 */
export function axisDollars(splits: readonly number[], step: number): string[] {
  const decimals = Math.min(9, Math.max(2, (step.toFixed(9).replace(/0+$/, '').split('.')[1] ?? '').length));
  return splits.map((v) => `$${v.toFixed(decimals)}`);
}
