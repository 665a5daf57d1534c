// Policies: what "best" means (the score placement minimises) and the built-in named ones.

import type { Policy, PolicyKind } from '../protocol';
import { regionGroups } from '../catalog/regions';
import { twinId } from '../catalog/twins';
import type { EstimateScratch } from './estimate';

/** balanced's default price of waiting: 0.36 USD an hour, about what a developer's attention is worth
 *  per request-second at the price scale of one chat answer (a 70B answer costs ~0.001 USD). */
export const DEFAULT_USD_PER_SECOND = 0.0001;

/** interactive's confidence; see docs/placement.md for the replay that chose it. */
const INTERACTIVE_CONFIDENCE = 0.95;

export function builtinPolicies(): Policy[] {
  return [
    { name: 'cheapest', kind: 'cheapest', description: 'Lowest expected cost, fees and data transfer included.' },
    { name: 'fastest', kind: 'fastest', description: 'Lowest expected end-to-end time: queue wait, time to first token and generation.' },
    { name: 'balanced', kind: 'balanced', usdPerSecond: DEFAULT_USD_PER_SECOND, description: 'Expected cost plus 0.0001 USD per second of expected waiting.' },
    {
      name: 'interactive', kind: 'cheapest',
      description: `Cheapest site with a free slot that shows the first token within 1 s for ${INTERACTIVE_CONFIDENCE * 100}% of requests, by its own record.`,
      constraints: { maxTtftMs: 1000, ttftConfidence: INTERACTIVE_CONFIDENCE, maxQueueDepth: 0 },
      // A late answer beats none: at a busy hour no site may promise the first token within a second.
      fallback: 'fastest',
    },
    { name: 'eu-only', kind: 'balanced', usdPerSecond: DEFAULT_USD_PER_SECOND, description: 'Balanced, placed only in EU regions.', constraints: { regions: ['eu'] } },
  ];
}

/**
 * The score placement minimises, written into the site's estimate; first-fit ranks by position in its
 * order, so its score is the rank. Written, not returned: a double returned from a call V8 does not
 * inline is a new heap number, one per site per decision (2 KB of garbage a decision at 100 sites).
 */
export function scoreInto(e: EstimateScratch, policy: Policy, rank: number): void {
  switch (policy.kind) {
    case 'cheapest':
      e.score = e.totalNanoUsd;
      return;
    case 'fastest':
      e.score = e.totalMs;
      return;
    case 'balanced':
      e.score = e.totalNanoUsd + (policy.usdPerSecond ?? DEFAULT_USD_PER_SECOND) * 1e9 * (e.totalMs / 1000);
      return;
    case 'first-fit':
    case 'pinned':
      e.score = rank;
  }
}

const KINDS: readonly PolicyKind[] = ['cheapest', 'fastest', 'balanced', 'first-fit', 'pinned'];
const CONSTRAINT_NUMBERS = ['maxUsdPer1MTokens', 'maxUsdPerRequest', 'maxTtftMs'] as const;
/** Fields that mean something to one kind only: elsewhere they would be silently ignored. */
const KIND_FIELDS = { usdPerSecond: 'balanced', order: 'first-fit', site: 'pinned' } as const satisfies Partial<Record<keyof Policy, PolicyKind>>;
/** Every field of a Policy: one it gains fails to compile here until validation knows it. */
const FIELDS: ReadonlySet<string> = new Set(Object.keys({
  name: true, kind: true, description: true, constraints: true, continueOnCut: true, fallback: true, usdPerSecond: true, order: true, site: true,
} satisfies Record<keyof Policy, true>));

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
  const name = typeof p.name === 'string' && p.name.trim().length > 0 ? p.name : null;
  const at = (field: string, msg: string) => `policy ${name ? `"${name}"` : '(unnamed)'}: ${field} ${msg}`;
  const errors: string[] = [];
  // "eu " reads like "eu" in the picker and in every why, and is another policy.
  if (!name || name !== name.trim()) errors.push(at('name', 'must be a non-empty string without spaces around it'));
  if (!KINDS.includes(p.kind as PolicyKind)) errors.push(at('kind', `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(p.kind)}`));
  // An unknown field is a misspelt one: "constraint" for "constraints" would drop a residency rule unseen.
  for (const k of Object.keys(p)) if (!FIELDS.has(k)) errors.push(at(k, 'is not a known field'));
  for (const [k, kind] of Object.entries(KIND_FIELDS)) {
    if (p[k] !== undefined && KINDS.includes(p.kind as PolicyKind) && p.kind !== kind) errors.push(at(k, `applies only to kind ${kind}, not ${p.kind}`));
  }
  if (p.description !== undefined && typeof p.description !== 'string') errors.push(at('description', 'must be a string'));
  if (p.continueOnCut !== undefined && typeof p.continueOnCut !== 'boolean') errors.push(at('continueOnCut', 'must be true or false'));
  const known = (id: string) => !siteIds || siteIds.has(id) || siteIds.has(twinId(id));
  if (p.kind === 'balanced' && p.usdPerSecond !== undefined && !(typeof p.usdPerSecond === 'number' && Number.isFinite(p.usdPerSecond) && p.usdPerSecond >= 0)) {
    // Infinity (1e400 in JSON) would score a zero-time site NaN, and a NaN best is never replaced.
    errors.push(at('usdPerSecond', 'must be a finite number >= 0'));
  }
  if (p.kind === 'first-fit') {
    if (!stringList(p.order)) errors.push(at('order', 'must list at least one site id'));
    else p.order.filter((id) => !known(id)).forEach((id) => errors.push(at('order', `names unknown site "${id}"`)));
  }
  if (p.kind === 'pinned') {
    if (typeof p.site !== 'string' || !p.site) errors.push(at('site', 'must name the site to pin'));
    else if (!known(p.site)) errors.push(at('site', `names unknown site "${p.site}"`));
  }
  if (p.fallback !== undefined && !(typeof p.fallback === 'string' && p.fallback.length > 0)) errors.push(at('fallback', 'must name a policy'));
  if (p.constraints !== undefined) {
    if (typeof p.constraints !== 'object' || p.constraints === null || Array.isArray(p.constraints)) {
      errors.push(at('constraints', 'must be an object'));
    } else {
      const c = p.constraints as Record<string, unknown>;
      const allowed = new Set<string>(['regions', 'hardware', 'ttftConfidence', 'maxQueueDepth', ...CONSTRAINT_NUMBERS]);
      for (const k of Object.keys(c)) if (!allowed.has(k)) errors.push(at(`constraints.${k}`, 'is not a known constraint'));
      for (const k of ['regions', 'hardware'] as const) {
        if (c[k] !== undefined && !stringList(c[k])) errors.push(at(`constraints.${k}`, `must be a non-empty list of strings${k === 'regions' ? ` (regions or groups: ${regionGroups().join(', ')})` : ''}`));
      }
      for (const k of CONSTRAINT_NUMBERS) {
        const v = c[k];
        if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) errors.push(at(`constraints.${k}`, `must be a number >= 0, got ${JSON.stringify(v)}`));
      }
      // Requests ahead are whole: 1.5 would read as 1 and say something else.
      const depth = c.maxQueueDepth;
      if (depth !== undefined && !(Number.isSafeInteger(depth) && (depth as number) >= 0)) errors.push(at('constraints.maxQueueDepth', `must be an integer >= 0, got ${JSON.stringify(depth)}`));
      const conf = c.ttftConfidence;
      if (conf !== undefined) {
        if (!(typeof conf === 'number' && conf > 0 && conf < 1)) errors.push(at('constraints.ttftConfidence', `must be a number between 0 and 1 (exclusive), got ${JSON.stringify(conf)}`));
        else if (c.maxTtftMs === undefined) errors.push(at('constraints.ttftConfidence', 'needs constraints.maxTtftMs'));
      }
    }
  }
  return errors;
}

const QA = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const QB = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const QC = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const QD = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

function quantileTail(q: number): number {
  return (((((QC[0] * q + QC[1]) * q + QC[2]) * q + QC[3]) * q + QC[4]) * q + QC[5]) / ((((QD[0] * q + QD[1]) * q + QD[2]) * q + QD[3]) * q + 1);
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9): turns a
 * policy's ttftConfidence into how many spreads of the logged estimate error to allow for.
 */
export function normalQuantile(p: number): number {
  if (p < 0.02425) return quantileTail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -quantileTail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((QA[0] * r + QA[1]) * r + QA[2]) * r + QA[3]) * r + QA[4]) * r + QA[5]) * q) / (((((QB[0] * r + QB[1]) * r + QB[2]) * r + QB[3]) * r + QB[4]) * r + 1);
}
