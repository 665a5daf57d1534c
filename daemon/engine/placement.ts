// The placement decision: a pure function of the request, the catalog index, a telemetry view, the
// policy, key availability, the remaining budget, an rng and the time. No I/O; one pass over the sites
// that offer the model.

import { siteRef, type CatalogIndex, type Offer } from '../catalog/lookup';
import { regionAllowed } from '../catalog/regions';
import { realIdOf, twinId } from '../catalog/twins';
import type { Candidate, Placement, Policy, ProviderId, RejectReason } from '../protocol';
import { estimate, worstCaseCost, type Estimate } from './estimate';
import { score } from './policies';
import type { PlacementRequest, SiteLoad, TelemetryView } from './types';

/** Scores within 2% of the best are a tie: estimates are not better than that, and spreading near-equal
 *  sites keeps one of them from taking every request while its telemetry catches up. */
export const TIE_EPSILON = 0.02;

export interface PlaceInput {
  id: string;
  request: PlacementRequest;
  index: CatalogIndex;
  telemetry: TelemetryView;
  policy: Policy;
  hasKey(provider: ProviderId): boolean;
  /** Candidates whose worst-case cost exceeds it are rejected with 'budget'. */
  remainingBudgetNanoUsd?: number;
  /** Pin this request to one site (ChatParams `siteId/providerModel`), on top of the policy. */
  pinSite?: string;
  /** Sites this request already failed at (failover): passed over like an open breaker. */
  exclude?: ReadonlySet<string>;
  rng(): number;
  now: number;
}

interface Rejection {
  reason: RejectReason;
  detail: string;
  /** Groups rejections in the one-line summary, e.g. "over max TTFT 800 ms". */
  summary: string;
}

interface Scored {
  offer: Offer;
  load: SiteLoad;
  est: Estimate;
  rejected?: Rejection;
  score: number;
}

const usd = (nano: number) => `$${(nano / 1e9).toPrecision(3)}`;
const ms = (v: number) => `${Math.round(v)} ms`;

/** A policy naming a real site id also means its simulated twin. */
function names(ref: string, siteId: string): boolean {
  return siteId === ref || realIdOf(siteId) === ref;
}

function rankIn(policy: Policy, siteId: string): number {
  if (policy.kind !== 'first-fit') return 0;
  return (policy.order ?? []).findIndex((ref) => names(ref, siteId));
}

function reject(reason: RejectReason, detail: string, summary: string): Rejection {
  return { reason, detail, summary };
}

function check(input: PlaceInput, s: Scored, rank: number): Rejection | undefined {
  const { site, model } = s.offer;
  const { policy, request: req } = input;
  const c = policy.constraints ?? {};
  if (site.disabled) return reject('disabled', 'disabled in the catalog', 'disabled');
  if (!site.simulated && !input.hasKey(site.provider)) {
    return reject('no key', `no API key for ${site.provider}; its simulated twin ${twinId(site.id)} serves instead`, 'without an API key');
  }
  const real = realIdOf(site.id);
  const realSite = real === null ? undefined : input.index.site(real);
  if (realSite && !realSite.disabled && input.hasKey(site.provider)) {
    return reject('disabled', `simulated twin stands down: a ${site.provider} key is set, so ${realSite.id} serves`, 'simulated twins of keyed sites');
  }
  if (input.pinSite !== undefined && !names(input.pinSite, site.id)) return reject('pinned', `request pinned to ${input.pinSite}`, 'not the pinned site');
  if (policy.kind === 'pinned' && !names(policy.site ?? '', site.id)) return reject('pinned', `policy "${policy.name}" pins ${policy.site}`, 'not the pinned site');
  if (policy.kind === 'first-fit' && rank < 0) return reject('pinned', `not in policy "${policy.name}"'s first-fit order`, 'not in the first-fit order');
  if (c.regions && !regionAllowed(site.region, c.regions)) {
    return reject('residency', `region ${site.region} (${site.location}) is outside [${c.regions.join(', ')}]`, `outside allowed regions [${c.regions.join(', ')}]`);
  }
  if (c.hardware && !c.hardware.includes(site.hardware)) {
    return reject('hardware', `hardware ${site.hardware} is not in [${c.hardware.join(', ')}]`, `not on allowed hardware [${c.hardware.join(', ')}]`);
  }
  if (req.inputTokens + req.maxOutputTokens > model.contextWindow) {
    return reject('context', `${req.inputTokens} prompt + ${req.maxOutputTokens} max output tokens exceed the ${model.contextWindow}-token context window`, 'with too small a context window');
  }
  const e = s.est;
  if (c.maxUsdPer1MTokens !== undefined && e.usdPer1M > c.maxUsdPer1MTokens) {
    return reject('threshold', `$${e.usdPer1M.toFixed(3)} per 1M tokens for this request exceeds max $${c.maxUsdPer1MTokens}`, `over max $${c.maxUsdPer1MTokens} per 1M tokens`);
  }
  const worst = c.maxUsdPerRequest !== undefined || input.remainingBudgetNanoUsd !== undefined ? worstCaseCost(model, req).totalNanoUsd : 0;
  if (c.maxUsdPerRequest !== undefined && worst > c.maxUsdPerRequest * 1e9) {
    return reject('threshold', `worst case ${usd(worst)} exceeds max $${c.maxUsdPerRequest} per request`, `over max $${c.maxUsdPerRequest} per request`);
  }
  const ttft = e.queueWaitMs + e.ttftMs;
  if (c.maxTtftMs !== undefined && ttft > c.maxTtftMs) {
    return reject('threshold', `expected ${ms(ttft)} to first token (${ms(e.queueWaitMs)} queue) exceeds max ${ms(c.maxTtftMs)}`, `over max TTFT ${ms(c.maxTtftMs)}`);
  }
  if (c.maxQueueDepth !== undefined && e.ahead > c.maxQueueDepth) {
    return reject('threshold', `${e.ahead} requests ahead exceed max queue depth ${c.maxQueueDepth}`, `over max queue depth ${c.maxQueueDepth}`);
  }
  if (input.remainingBudgetNanoUsd !== undefined && worst > input.remainingBudgetNanoUsd) {
    return reject('budget', `worst case ${usd(worst)} exceeds the remaining budget ${usd(input.remainingBudgetNanoUsd)}`, `over the remaining budget ${usd(input.remainingBudgetNanoUsd)}`);
  }
  if (input.exclude?.has(site.id)) return reject('breaker', 'already failed for this request', 'already tried for this request');
  if (!s.load.admits) {
    const detail = s.load.breaker === 'half-open'
      ? 'breaker half-open: a probe request is already out'
      : `breaker open after ${s.load.consecutiveFailures} consecutive failures`;
    return reject('breaker', detail, 'with breaker open');
  }
  return undefined;
}

function toCandidate(s: Scored): Candidate {
  const { site, model } = s.offer;
  return {
    site: siteRef(site),
    providerModel: model.providerModel,
    cost: s.est.cost,
    queueWaitMs: Math.round(s.est.queueWaitMs),
    ttftMs: Math.round(s.est.ttftMs),
    totalMs: Math.round(s.est.totalMs),
    inFlight: s.load.inFlight,
    queueDepth: s.load.queueDepth,
    breaker: s.load.breaker,
    ...(s.rejected ? { rejected: { reason: s.rejected.reason, detail: s.rejected.detail } } : {}),
  };
}

/** Power of two choices among near-ties: two at random, the less loaded wins (then the better score). */
function pickAmongTies(ties: Scored[], rng: () => number): Scored {
  if (ties.length === 1) return ties[0];
  const i = Math.floor(rng() * ties.length);
  let j = Math.floor(rng() * (ties.length - 1));
  if (j >= i) j++;
  const [a, b] = [ties[i], ties[j]];
  if (a.load.inFlight !== b.load.inFlight) return a.load.inFlight < b.load.inFlight ? a : b;
  return b.score < a.score ? b : a;
}

function summarise(rejected: Scored[]): string {
  const counts = new Map<string, number>();
  for (const s of rejected) counts.set(s.rejected!.summary, (counts.get(s.rejected!.summary) ?? 0) + 1);
  return [...counts].map(([summary, n]) => `${n} ${summary}`).join(', ');
}

function describe(policy: Policy, s: Scored): string {
  const e = s.est;
  return `${s.offer.site.id} at ${usd(e.cost.totalNanoUsd)} expected, ${ms(e.queueWaitMs + e.ttftMs)} to first token, ${ms(e.totalMs)} in all`
    + (policy.kind === 'balanced' ? ` (score ${usd(s.score)})` : '');
}

export function place(input: PlaceInput): Placement {
  const { request: req, policy, now } = input;
  const offers = input.index.offers(req.model);
  const all: Scored[] = [];
  const eligible: Scored[] = [];
  for (const offer of offers) {
    const load = input.telemetry.load(offer.site.id, req.model, now);
    const est = estimate(offer.site, offer.model, load, req);
    const rank = rankIn(policy, offer.site.id);
    const s: Scored = { offer, load, est, score: 0 };
    s.rejected = check(input, s, rank);
    s.score = score(policy, est, rank);
    all.push(s);
    if (!s.rejected) eligible.push(s);
  }

  let chosen: Scored | undefined;
  let why: string;
  if (offers.length === 0) {
    why = `unknown model ${req.model}: no site in the catalog offers it`;
  } else if (eligible.length > 0) {
    eligible.sort((a, b) => a.score - b.score);
    const best = eligible[0].score;
    const bound = best + Math.abs(best) * TIE_EPSILON;
    const ties = policy.kind === 'first-fit' || policy.kind === 'pinned' ? [eligible[0]] : eligible.filter((s) => s.score <= bound);
    chosen = pickAmongTies(ties, input.rng);
    const runnerUp = eligible.find((s) => s !== chosen);
    why = `${policy.name} (${policy.kind}): ${describe(policy, chosen)}`
      + (ties.length > 1 ? `; ${ties.length} sites within ${TIE_EPSILON * 100}% of the best, picked the less loaded of two at random` : '')
      + (runnerUp && ties.length === 1 ? `; next best ${describe(policy, runnerUp)}` : '');
  } else {
    // Every otherwise eligible site has its breaker open: rather than fail blind, try the one whose
    // last failure is oldest, the likeliest to have recovered.
    const broken = all.filter((s) => s.rejected?.reason === 'breaker');
    if (broken.length > 0) {
      chosen = broken.reduce((a, b) => ((b.load.lastFailureAt ?? -Infinity) < (a.load.lastFailureAt ?? -Infinity) ? b : a));
      const ago = chosen.load.lastFailureAt === null ? 'unknown' : `${Math.round((now - chosen.load.lastFailureAt) / 1000)} s ago`;
      chosen.rejected = undefined;
      why = `every eligible site's breaker is open; trying ${chosen.offer.site.id}, which failed longest ago (${ago})`;
    } else {
      why = `no eligible site for ${req.model}: ${summarise(all)}`;
    }
  }

  const order = (s: Scored) => (s === chosen ? -1 : s.rejected ? 1 : 0);
  const candidates = all
    .sort((a, b) => order(a) - order(b) || a.score - b.score)
    .map(toCandidate);
  return {
    id: input.id,
    policy: policy.name,
    model: req.model,
    chosen: chosen ? chosen.offer.site.id : null,
    why,
    candidates,
    decidedAt: new Date(now).toISOString(),
  };
}
