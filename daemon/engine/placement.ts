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
  rejected?: Check;
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

/** Why a site was passed over, decided in the hot path without building any text. */
type Check =
  | 'disabled' | 'no-key' | 'twin' | 'pin-request' | 'pin-policy' | 'first-fit' | 'residency' | 'hardware' | 'context'
  | 'usd-per-1m' | 'usd-per-request' | 'ttft' | 'queue' | 'budget' | 'tried' | 'breaker';

function check(input: PlaceInput, s: Scored, rank: number): Check | undefined {
  const { site, model } = s.offer;
  const { policy, request: req } = input;
  const c = policy.constraints ?? {};
  if (site.disabled) return 'disabled';
  if (!site.simulated && !input.hasKey(site.provider)) return 'no-key';
  if (site.simulated && input.hasKey(site.provider)) {
    const real = realIdOf(site.id);
    const realSite = real === null ? undefined : input.index.site(real);
    if (realSite && !realSite.disabled) return 'twin';
  }
  if (input.pinSite !== undefined && !names(input.pinSite, site.id)) return 'pin-request';
  if (policy.kind === 'pinned' && !names(policy.site ?? '', site.id)) return 'pin-policy';
  if (policy.kind === 'first-fit' && rank < 0) return 'first-fit';
  if (c.regions && !regionAllowed(site.region, c.regions)) return 'residency';
  if (c.hardware && !c.hardware.includes(site.hardware)) return 'hardware';
  if (req.inputTokens + req.maxOutputTokens > model.contextWindow) return 'context';
  const e = s.est;
  if (c.maxUsdPer1MTokens !== undefined && e.usdPer1M > c.maxUsdPer1MTokens) return 'usd-per-1m';
  const worst = c.maxUsdPerRequest !== undefined || input.remainingBudgetNanoUsd !== undefined ? worstCaseCost(model, req).totalNanoUsd : 0;
  if (c.maxUsdPerRequest !== undefined && worst > c.maxUsdPerRequest * 1e9) return 'usd-per-request';
  if (c.maxTtftMs !== undefined && e.queueWaitMs + e.ttftMs > c.maxTtftMs) return 'ttft';
  if (c.maxQueueDepth !== undefined && e.ahead > c.maxQueueDepth) return 'queue';
  if (input.remainingBudgetNanoUsd !== undefined && worst > input.remainingBudgetNanoUsd) return 'budget';
  if (input.exclude?.has(site.id)) return 'tried';
  if (!s.load.admits) return 'breaker';
  return undefined;
}

/** The words for a rejection: only built when the placement is shown or nothing was eligible. */
function explain(check: Check, input: PlaceInput, s: Scored): Rejection {
  const { site, model } = s.offer;
  const { policy, request: req } = input;
  const c = policy.constraints ?? {};
  const e = s.est;
  const worst = () => usd(worstCaseCost(model, req).totalNanoUsd);
  switch (check) {
    case 'disabled': return { reason: 'disabled', detail: 'disabled in the catalog', summary: 'disabled' };
    case 'no-key': return { reason: 'no key', detail: `no API key for ${site.provider}; its simulated twin ${twinId(site.id)} serves instead`, summary: 'without an API key' };
    case 'twin': return { reason: 'disabled', detail: `simulated twin stands down: a ${site.provider} key is set, so ${realIdOf(site.id)} serves`, summary: 'simulated twins of keyed sites' };
    case 'pin-request': return { reason: 'pinned', detail: `request pinned to ${input.pinSite}`, summary: 'not the pinned site' };
    case 'pin-policy': return { reason: 'pinned', detail: `policy "${policy.name}" pins ${policy.site}`, summary: 'not the pinned site' };
    case 'first-fit': return { reason: 'pinned', detail: `not in policy "${policy.name}"'s first-fit order`, summary: 'not in the first-fit order' };
    case 'residency': {
      const allowed = c.regions!.join(', ');
      return { reason: 'residency', detail: `region ${site.region} (${site.location}) is outside [${allowed}]`, summary: `outside allowed regions [${allowed}]` };
    }
    case 'hardware': {
      const allowed = c.hardware!.join(', ');
      return { reason: 'hardware', detail: `hardware ${site.hardware} is not in [${allowed}]`, summary: `not on allowed hardware [${allowed}]` };
    }
    case 'context': return { reason: 'context', detail: `${req.inputTokens} prompt + ${req.maxOutputTokens} max output tokens exceed the ${model.contextWindow}-token context window`, summary: 'with too small a context window' };
    case 'usd-per-1m': return { reason: 'threshold', detail: `$${e.usdPer1M.toFixed(3)} per 1M tokens for this request exceeds max $${c.maxUsdPer1MTokens}`, summary: `over max $${c.maxUsdPer1MTokens} per 1M tokens` };
    case 'usd-per-request': return { reason: 'threshold', detail: `worst case ${worst()} exceeds max $${c.maxUsdPerRequest} per request`, summary: `over max $${c.maxUsdPerRequest} per request` };
    case 'ttft': return { reason: 'threshold', detail: `expected ${ms(e.queueWaitMs + e.ttftMs)} to first token (${ms(e.queueWaitMs)} queue) exceeds max ${ms(c.maxTtftMs!)}`, summary: `over max TTFT ${ms(c.maxTtftMs!)}` };
    case 'queue': return { reason: 'threshold', detail: `${e.ahead} requests ahead exceed max queue depth ${c.maxQueueDepth}`, summary: `over max queue depth ${c.maxQueueDepth}` };
    case 'budget': {
      const left = usd(input.remainingBudgetNanoUsd!);
      return { reason: 'budget', detail: `worst case ${worst()} exceeds the remaining budget ${left}`, summary: `over the remaining budget ${left}` };
    }
    case 'tried': return { reason: 'breaker', detail: 'already failed for this request', summary: 'already tried for this request' };
    case 'breaker': return {
      reason: 'breaker',
      detail: s.load.breaker === 'half-open' ? 'breaker half-open: a probe request is already out' : `breaker open after ${s.load.consecutiveFailures} consecutive failures`,
      summary: 'with breaker open',
    };
  }
}

function toCandidate(input: PlaceInput, s: Scored): Candidate {
  const { site, model } = s.offer;
  const r = s.rejected && explain(s.rejected, input, s);
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
    ...(r ? { rejected: { reason: r.reason, detail: r.detail } } : {}),
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

function summarise(input: PlaceInput, rejected: Scored[]): string {
  const counts = new Map<string, number>();
  for (const s of rejected) {
    const { summary } = explain(s.rejected!, input, s);
    counts.set(summary, (counts.get(summary) ?? 0) + 1);
  }
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
    let best = eligible[0];
    for (const s of eligible) if (s.score < best.score) best = s;
    const bound = best.score + Math.abs(best.score) * TIE_EPSILON;
    const ties = policy.kind === 'first-fit' || policy.kind === 'pinned' ? [best] : eligible.filter((s) => s.score <= bound);
    chosen = pickAmongTies(ties, input.rng);
    let runnerUp: Scored | undefined;
    for (const s of eligible) if (s !== chosen && (!runnerUp || s.score < runnerUp.score)) runnerUp = s;
    why = `${policy.name} (${policy.kind}): ${describe(policy, chosen)}`
      + (ties.length > 1 ? `; ${ties.length} sites within ${TIE_EPSILON * 100}% of the best, picked the less loaded of two at random` : '')
      + (runnerUp && ties.length === 1 ? `; next best ${describe(policy, runnerUp)}` : '');
  } else {
    // Every otherwise eligible site has its breaker open: rather than fail blind, try the one whose
    // last failure is oldest, the likeliest to have recovered.
    const broken = all.filter((s) => s.rejected === 'breaker' || s.rejected === 'tried');
    if (broken.length > 0) {
      chosen = broken.reduce((a, b) => ((b.load.lastFailureAt ?? -Infinity) < (a.load.lastFailureAt ?? -Infinity) ? b : a));
      const ago = chosen.load.lastFailureAt === null ? 'unknown' : `${Math.round((now - chosen.load.lastFailureAt) / 1000)} s ago`;
      chosen.rejected = undefined;
      why = `every eligible site's breaker is open; trying ${chosen.offer.site.id}, which failed longest ago (${ago})`;
    } else {
      why = `no eligible site for ${req.model}: ${summarise(input, all)}`;
    }
  }

  const placement = {
    id: input.id,
    policy: policy.name,
    model: req.model,
    chosen: chosen ? chosen.offer.site.id : null,
    why,
    decidedAt: new Date(now).toISOString(),
  } as Placement;
  // The explanation (every candidate, with words for each rejection) is built when first read (shown,
  // serialised), not while deciding: the decision stays O(sites) with no text built per site.
  let candidates: Candidate[] | undefined;
  Object.defineProperty(placement, 'candidates', {
    enumerable: true,
    get: () => {
      const order = (s: Scored) => (s === chosen ? -1 : s.rejected ? 1 : 0);
      return (candidates ??= [...all].sort((a, b) => order(a) - order(b) || a.score - b.score).map((s) => toCandidate(input, s)));
    },
  });
  return placement;
}
