// Policies: what "best" means (the score placement minimises) and the built-in named ones.

import type { Policy, PolicyKind } from '../protocol';
import { regionGroups } from '../catalog/regions';
import { twinId } from '../catalog/twins';
import type { Estimate } from './estimate';

/** balanced's default price of waiting: 0.36 USD an hour, about what a developer's attention is worth
 *  per request-second at the price scale of one chat answer (a 70B answer costs ~0.001 USD). */
export const DEFAULT_USD_PER_SECOND = 0.0001;

export function builtinPolicies(): Policy[] {
  return [
    { name: 'cheapest', kind: 'cheapest', description: 'Lowest expected cost, fees and data transfer included.' },
    { name: 'fastest', kind: 'fastest', description: 'Lowest expected end-to-end time: queue wait, time to first token and generation.' },
    { name: 'balanced', kind: 'balanced', usdPerSecond: DEFAULT_USD_PER_SECOND, description: 'Expected cost plus 0.0001 USD per second of expected waiting.' },
    {
      name: 'interactive', kind: 'cheapest',
      description: 'Cheapest site with a free slot expected to show the first token within 0.7 s (1 s SLO with margin for jitter).',
      constraints: { maxTtftMs: 700, maxQueueDepth: 0 },
    },
    { name: 'eu-only', kind: 'balanced', usdPerSecond: DEFAULT_USD_PER_SECOND, description: 'Balanced, placed only in EU regions.', constraints: { regions: ['eu'] } },
  ];
}

/** Score to minimise; first-fit ranks by position in its order, so its score is the rank. */
export function score(policy: Policy, e: Estimate, rank: number): number {
  return scoreOf(policy, e.cost.totalNanoUsd, e.totalMs, rank);
}

/** `score` from the two figures it reads (placement's hot path has no Estimate object per site). */
export function scoreOf(policy: Policy, totalNanoUsd: number, totalMs: number, rank: number): number {
  switch (policy.kind) {
    case 'cheapest':
      return totalNanoUsd;
    case 'fastest':
      return totalMs;
    case 'balanced':
      return totalNanoUsd + (policy.usdPerSecond ?? DEFAULT_USD_PER_SECOND) * 1e9 * (totalMs / 1000);
    case 'first-fit':
    case 'pinned':
      return rank;
  }
}

const KINDS: readonly PolicyKind[] = ['cheapest', 'fastest', 'balanced', 'first-fit', 'pinned'];
const CONSTRAINT_NUMBERS = ['maxUsdPer1MTokens', 'maxUsdPerRequest', 'maxTtftMs', 'maxQueueDepth'] as const;

function stringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.length > 0);
}

/**
 * Problems with a user policy, each naming the policy and the field; empty when valid. `siteIds`, when
 * given, lets pinned and first-fit policies be checked against the catalog (a site's twin counts too).
 */
export function validatePolicy(input: unknown, siteIds?: ReadonlySet<string>): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return ['policy must be an object'];
  const p = input as Record<string, unknown>;
  const name = typeof p.name === 'string' && p.name.length > 0 ? p.name : null;
  const at = (field: string, msg: string) => `policy ${name ? `"${name}"` : '(unnamed)'}: ${field} ${msg}`;
  const errors: string[] = [];
  if (!name) errors.push(at('name', 'must be a non-empty string'));
  if (!KINDS.includes(p.kind as PolicyKind)) errors.push(at('kind', `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(p.kind)}`));
  const known = (id: string) => !siteIds || siteIds.has(id) || siteIds.has(twinId(id));
  if (p.kind === 'balanced' && p.usdPerSecond !== undefined && !(typeof p.usdPerSecond === 'number' && p.usdPerSecond >= 0)) {
    errors.push(at('usdPerSecond', 'must be a number >= 0'));
  }
  if (p.kind === 'first-fit') {
    if (!stringList(p.order)) errors.push(at('order', 'must list at least one site id'));
    else p.order.filter((id) => !known(id)).forEach((id) => errors.push(at('order', `names unknown site "${id}"`)));
  }
  if (p.kind === 'pinned') {
    if (typeof p.site !== 'string' || !p.site) errors.push(at('site', 'must name the site to pin'));
    else if (!known(p.site)) errors.push(at('site', `names unknown site "${p.site}"`));
  }
  if (p.constraints !== undefined) {
    if (typeof p.constraints !== 'object' || p.constraints === null || Array.isArray(p.constraints)) {
      errors.push(at('constraints', 'must be an object'));
    } else {
      const c = p.constraints as Record<string, unknown>;
      const allowed = new Set<string>(['regions', 'hardware', ...CONSTRAINT_NUMBERS]);
      for (const k of Object.keys(c)) if (!allowed.has(k)) errors.push(at(`constraints.${k}`, 'is not a known constraint'));
      for (const k of ['regions', 'hardware'] as const) {
        if (c[k] !== undefined && !stringList(c[k])) errors.push(at(`constraints.${k}`, `must be a non-empty list of strings${k === 'regions' ? ` (regions or groups: ${regionGroups().join(', ')})` : ''}`));
      }
      for (const k of CONSTRAINT_NUMBERS) {
        const v = c[k];
        if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) errors.push(at(`constraints.${k}`, `must be a number >= 0, got ${JSON.stringify(v)}`));
      }
    }
  }
  return errors;
}
