// Formatting shared by the webviews and the extension host (status bar, quick picks). Pure.

import type { Policy, PolicyConstraints, SiteRef } from '../daemon/protocol';

/** A site as the editor names it: provider · region · hardware, and whether it is a simulated twin where that matters. */
export function siteLabel(site: SiteRef, markSimulated = false): string {
  return `${site.provider} · ${site.region} · ${site.hardware}${markSimulated && site.simulated ? ' (simulated)' : ''}`;
}

const NANO = 1e9;

/**
 * USD from integer nano-USD: cents from 10 cents up; below, two significant digits, so a real cost never
 * reads "$0.00" and a few cents keep their fraction ($0.015 and $0.024 are not both "$0.02", the
 * difference "why here?" chose by).
 */
export function usd(nano: number): string {
  const value = nano / NANO;
  const abs = Math.abs(value);
  if (abs === 0) return '$0.00';
  if (abs >= 0.1) return `${value < 0 ? '-' : ''}$${abs.toFixed(2)}`;
  // At most 9 decimals (one nano-USD); trailing zeros go, down to cents.
  const digits = Math.min(9, 1 - Math.floor(Math.log10(abs)));
  return `${value < 0 ? '-' : ''}$${abs.toFixed(digits).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}

/** USD from a plain number of dollars (settings, price cards). */
export function dollars(value: number): string {
  return usd(Math.round(value * NANO));
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  // The unit and digits follow the figure as rounded: 999.6 reads "1.00 s", not "1000 ms".
  if (Math.round(value) < 1000) return `${Math.round(value)} ms`;
  const seconds = value / 1000;
  return `${seconds.toFixed(Math.round(seconds * 100) < 1000 ? 2 : 1)} s`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function rate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${value.toFixed(value < 10 ? 1 : 0)} tok/s`;
}

export function constraintsSummary(c: PolicyConstraints | undefined): string[] {
  if (!c) return [];
  const out: string[] = [];
  if (c.regions?.length) out.push(`regions ${c.regions.join(', ')}`);
  if (c.hardware?.length) out.push(`hardware ${c.hardware.join(', ')}`);
  if (c.maxUsdPer1MTokens !== undefined) out.push(`≤ $${c.maxUsdPer1MTokens}/1M tokens`);
  if (c.maxUsdPerRequest !== undefined) out.push(`≤ $${c.maxUsdPerRequest}/request`);
  if (c.maxTtftMs !== undefined) out.push(`first token ≤ ${ms(c.maxTtftMs)}${c.ttftConfidence !== undefined ? ` at ${Math.round(c.ttftConfidence * 1000) / 10}%` : ''}`);
  if (c.maxQueueDepth !== undefined) out.push(`queue ≤ ${c.maxQueueDepth}`);
  return out;
}

const OPTIMISES: Record<Policy['kind'], (p: Policy) => string> = {
  cheapest: () => 'lowest expected cost',
  fastest: () => 'lowest expected end-to-end time',
  balanced: (p) => `cost + $${p.usdPerSecond ?? 0.0001}/s of waiting`,
  'first-fit': (p) => `first fit in order ${(p.order ?? []).join(' → ')}`,
  pinned: (p) => `pinned to ${p.site ?? '?'}`,
};

/** Its constraints, then what places a request when no site meets them. */
function limits(p: Policy): string[] {
  return [...constraintsSummary(p.constraints), ...(p.fallback ? [`fallback ${p.fallback}`] : [])];
}

/** One line: what the policy optimises, then its constraints and fallback. */
export function policySummary(p: Policy): string {
  return [OPTIMISES[p.kind]?.(p) ?? p.kind, ...limits(p)].join(' · ');
}

/** The line a picker or the panel shows for a policy: its own description when it has one, else what it optimises; then its constraints and fallback. */
export function policyLine(p: Policy): string {
  if (!p.description) return policySummary(p);
  return [p.description.replace(/\.$/, ''), ...limits(p)].join(' · ');
}
