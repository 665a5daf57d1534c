// The placement decision: a pure function of the request, the catalog index, a telemetry view, the
// policy, key availability, the remaining budget, an rng and the time. No I/O; one pass over the sites
// that offer the model.

import { ADDRESS_EXAMPLE, addressed, siteRef, type CatalogIndex, type Offer } from '../catalog/lookup';
import { regionAllowed } from '../catalog/regions';
import { realIdOf, twinId } from '../catalog/twins';
import type { Candidate, Placement, Policy, ProviderId, RejectReason } from '../protocol';
import { costTerms, estimateInto, estimateOffer, EstimateScratch, expectedOutputTokens, totalCost, ttftEstimateMs, usdPer1MOf, worstCaseCost, worstCaseTerms, worstTermsAt, type CostTerms, type Estimate } from './estimate';
import { normalQuantile, scoreInto } from './policies';
import { admitsOf as admitsOfImport, LOAD, newLoadRecord, readLoad, type LoadRecord, type PlacementRequest, type SiteLoad, type TelemetryView } from './types';

const {
  RECORD: LOAD_RECORD, IN_FLIGHT: L_IN_FLIGHT, STATE: L_STATE, ADMITS_RATE_LIMITED, LAST_FAILURE: L_LAST_FAILURE, HAS_LAST_FAILURE,
  TTFT_ERROR_MEAN: L_TTFT_ERROR_MEAN, TTFT_ERROR_SD: L_TTFT_ERROR_SD,
} = LOAD;

// Imported functions called once per site, bound to module constants: under tsx (the benchmark, the
// tests) every read of an import goes through a getter that is not inlined; the daemon's bundle binds
// them directly either way.
const estimateSite = estimateInto;
const scoreSite = scoreInto;
const totalCostAt = totalCost;
const admitsOf = admitsOfImport;

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
  /** The team's headroom as last read from the team ledger: real sites whose worst case exceeds it are rejected with 'budget'. */
  teamRemainingNanoUsd?: number;
  /** Pin this request to one site (ChatParams `siteId/providerModel`), on top of the policy. */
  pinSite?: string;
  /** Sites this request already failed at (failover): passed over like an open breaker. */
  exclude?: ReadonlySet<string>;
  /** The placement by the policy whose fallback this is, which found no eligible site: the why starts from it. */
  instead?: Placement;
  /**
   * When no site passes: whether the one whose breaker opened (or that this request failed at) longest
   * ago is tried anyway, rather than none. Off while a fallback policy may still find a healthy site.
   */
  lastResort?: boolean;
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
/** A confidence as the percentage it was set at: 0.57 * 100 is 56.99999999999999. */
const percent = (confidence: number) => `${Number((confidence * 100).toPrecision(12))}%`;

/**
 * `show(value, digits)` from `digits` on, with as many more as it takes to read above `limit`: a worst case
 * of $0.0010004 shown as "$0.00100" would not say why it exceeds $0.001, nor $0.0002 per 1M as "$0.000".
 */
function above(value: number, limit: number, show: (v: number, digits: number) => string, digits: number): string {
  let d = digits;
  while (d < digits + 12 && !(Number(show(value, d)) > limit)) d++;
  return show(value, d);
}
const usdAbove = (nano: number, limitNano: number) => `$${above(nano / 1e9, limitNano / 1e9, (v, d) => v.toPrecision(d), 3)}`;

/** A policy naming a real site id also means its simulated twin. */
function names(ref: string, siteId: string): boolean {
  return siteId === ref || realIdOf(siteId) === ref;
}

/**
 * Whether the request or the policy names this simulated twin by its own id: a twin stands down for its
 * keyed real site only where it was meant through the real id; asked for itself, it serves.
 */
function namesTwin(input: PlaceInput, twin: string): boolean {
  const { policy } = input;
  return input.pinSite === twin || (policy.kind === 'pinned' && policy.site === twin) || (policy.kind === 'first-fit' && (policy.order ?? []).includes(twin));
}

function rankIn(policy: Policy, siteId: string): number {
  if (policy.kind !== 'first-fit') return 0;
  return (policy.order ?? []).findIndex((ref) => names(ref, siteId));
}

/** Why a site was passed over, decided in the hot path without building any text. */
type Check =
  | 'disabled' | 'no-key' | 'twin' | 'pin-request' | 'pin-policy' | 'first-fit' | 'residency' | 'hardware' | 'context'
  | 'usd-per-1m' | 'usd-per-request' | 'ttft' | 'queue' | 'budget' | 'team-budget' | 'tried' | 'rate-limited' | 'breaker' | 'tools' | 'json' | 'images'
  | 'no-address';

const CHECKS: readonly Check[] = [
  'disabled', 'no-key', 'twin', 'pin-request', 'pin-policy', 'first-fit', 'residency', 'hardware', 'context',
  'usd-per-1m', 'usd-per-request', 'ttft', 'queue', 'budget', 'team-budget', 'tried', 'rate-limited', 'breaker', 'tools', 'json', 'images',
  'no-address',
];
/** A check as a number in the decision record: 0 passed, else 1 + its index in CHECKS. */
const code = (c: Check) => CHECKS.indexOf(c) + 1;
const DISABLED = code('disabled'), NO_KEY = code('no-key'), TWIN = code('twin'), PIN_REQUEST = code('pin-request'), PIN_POLICY = code('pin-policy');
const FIRST_FIT = code('first-fit'), RESIDENCY = code('residency'), HARDWARE = code('hardware'), CONTEXT = code('context');
const USD_PER_1M = code('usd-per-1m'), USD_PER_REQUEST = code('usd-per-request'), TTFT = code('ttft'), QUEUE = code('queue');
const NO_ADDRESS = code('no-address');
const BUDGET = code('budget'), TEAM_BUDGET = code('team-budget'), TRIED = code('tried'), RATE_LIMITED = code('rate-limited'), BREAKER = code('breaker'), TOOLS = code('tools'), JSON_ANSWER = code('json'), IMAGES = code('images');

/** Per site in the decision record: the telemetry load record, then the check and the score. */
const R_CHECK = LOAD_RECORD;
const R_SCORE = LOAD_RECORD + 1;
const STRIDE = LOAD_RECORD + 2;

// The decision record is kept in blocks of 2^BLOCK_BITS sites (90 KB at 11 numbers a site), under V8's
// large-object size (128 KB). In one array, 10,000 sites would be 880 KB: a large object, which takes
// fresh pages and counts toward the next mark-compact (a major GC every ~18 decisions); blocks are young
// garbage that a scavenge frees.
const BLOCK_BITS = 10;
const BLOCK = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK - 1;
/** Where site k's numbers start in its block, `blocks[k >>> BLOCK_BITS]`. */
const atOf = (k: number) => (k & BLOCK_MASK) * STRIDE;

/** Number `field` (a LOAD index, R_CHECK or R_SCORE) of site k in a decision record. */
function numberAt(blocks: readonly LoadRecord[], k: number, field: number): number {
  return blocks[k >>> BLOCK_BITS][atOf(k) + field];
}

const NO_CONSTRAINTS: NonNullable<Policy['constraints']> = Object.freeze({});

/** What a decision works out once rather than per site. */
interface Decision {
  input: PlaceInput;
  constraints: NonNullable<Policy['constraints']>;
  expected: CostTerms;
  /** When a constraint or the budget judges each site's worst case. */
  needsWorst: boolean;
  /** The worst case when it is needed and the request caps its output (the same at every site); null: per site. */
  worst: CostTerms | null;
  /** Residency per region, when the policy restricts regions (most sites share a few regions). */
  regionOk: Map<string, boolean> | null;
  /** Spreads of a site's logged TTFT error to allow for (ttftConfidence); NaN: judge the expected TTFT. */
  ttftZ: number;
  /** The team's headroom for real sites; Infinity without team budgets. Read once: the bench's inputs lack the field, and a missing property is a slow read per site. */
  teamRemaining: number;
  /** maxUsdPerRequest in whole nano-USD, as worst cases are priced; Infinity without it. */
  maxNanoPerRequest: number;
}

/**
 * A policy's maxUsdPerRequest in nano-USD, rounded: worst cases are whole nano-USD, and 0.00013 x 1e9 is
 * 129999.99999999999, which would refuse a worst case of exactly the limit.
 */
function maxNanoPerRequest(c: NonNullable<Policy['constraints']>): number {
  return c.maxUsdPerRequest === undefined ? Infinity : Math.round(c.maxUsdPerRequest * 1e9);
}

/**
 * What the TTFT check multiplies a site's TTFT by: its logged error at the policy's confidence. With a
 * confidence the TTFT is the catalog's for this prompt, not the moving estimate: errors come only from
 * requests a site was chosen for, and it is chosen when its estimate looks good, so errors against that
 * estimate would be logged mostly while it was optimistic (see docs/placement.md).
 */
function ttftMargin(z: number, errorMean: number, errorSd: number): number {
  return z === z ? Math.exp(errorMean + z * errorSd) : 1;
}

/**
 * Whether a site can answer in JSON: every real wire can to a schema (Anthropic's and Bedrock's through a
 * forced tool, which the library turns back into text); any JSON object only where the API has a JSON
 * mode (OpenAI's and the compatible ones, Gemini's). Simulated sites answer in plain text.
 */
function answersJson(site: Offer['site'], json: 'object' | 'schema'): boolean {
  if (site.simulated) return false;
  return json === 'schema' || (site.endpoint.kind !== 'anthropic' && site.endpoint.kind !== 'bedrock');
}

/**
 * Whether a site's model can see the request's images: the catalog says the model takes them; Bedrock takes
 * them inline only (the library passes it no http URLs); a simulated site produces text and sees nothing.
 */
export function seesImages({ site, model }: Pick<Offer, 'site' | 'model'>, images: 'inline' | 'url'): boolean {
  return !site.simulated && model.images === true && (images === 'inline' || site.endpoint.kind !== 'bedrock');
}

/** Every real provider's wire carries tools, unless the catalog says this server cannot; a simulated site produces text only. */
export function callsTools(site: Offer['site']): boolean {
  return !site.simulated && site.endpoint.tools !== false;
}

/** The first check a site fails, as a code (0: none); decided in the hot path without building any text. */
function check(d: Decision, offer: Offer, e: EstimateScratch, rec: LoadRecord, at: number, rank: number): number {
  const { site, model } = offer;
  const { input } = d;
  const { policy, request: req } = input;
  const c = d.constraints;
  if (site.disabled) return DISABLED;
  if (!site.simulated && !input.hasKey(site.provider)) return NO_KEY;
  if (!site.simulated && !addressed(site)) return NO_ADDRESS;
  if (site.simulated && input.hasKey(site.provider) && !namesTwin(input, site.id)) {
    const real = realIdOf(site.id);
    const realSite = real === null ? undefined : input.index.site(real);
    if (realSite && !realSite.disabled && addressed(realSite)) return TWIN;
  }
  if (input.pinSite !== undefined && !names(input.pinSite, site.id)) return PIN_REQUEST;
  if (policy.kind === 'pinned' && !names(policy.site ?? '', site.id)) return PIN_POLICY;
  if (policy.kind === 'first-fit' && rank < 0) return FIRST_FIT;
  if (d.regionOk !== null) {
    let ok = d.regionOk.get(site.region);
    if (ok === undefined) d.regionOk.set(site.region, (ok = regionAllowed(site.region, c.regions!)));
    if (!ok) return RESIDENCY;
  }
  if (c.hardware && !c.hardware.includes(site.hardware)) return HARDWARE;
  // Without a cap, the prompt must leave room for an answer.
  if (req.inputTokens + (req.maxOutputTokens ?? 1) > model.contextWindow) return CONTEXT;
  if (req.tools === true && !callsTools(site)) return TOOLS;
  if (req.json !== undefined && !answersJson(site, req.json)) return JSON_ANSWER;
  if (req.images !== undefined && !seesImages(offer, req.images)) return IMAGES;
  if (c.maxUsdPer1MTokens !== undefined && usdPer1MOf(e.totalNanoUsd, req.inputTokens + d.expected.output) > c.maxUsdPer1MTokens) return USD_PER_1M;
  const worst = !d.needsWorst ? 0 : totalCostAt(offer.card, d.worst ?? worstTermsAt(model, req));
  if (worst > d.maxNanoPerRequest) return USD_PER_REQUEST;
  // Not a helper that returns the judged TTFT: a double returned by a call V8 does not inline is boxed,
  // a heap number per site per decision (gc 17 -> 25 per 1000 decisions at 1000 sites).
  if (c.maxTtftMs !== undefined && e.queueWaitMs + (d.ttftZ === d.ttftZ ? e.catalogTtftMs : e.ttftMs) * ttftMargin(d.ttftZ, rec[at + L_TTFT_ERROR_MEAN], rec[at + L_TTFT_ERROR_SD]) > c.maxTtftMs) return TTFT;
  if (c.maxQueueDepth !== undefined && e.ahead > c.maxQueueDepth) return QUEUE;
  if (input.remainingBudgetNanoUsd !== undefined && worst > input.remainingBudgetNanoUsd) return BUDGET;
  // Simulated sites cost nothing real: the team's budget counts real sites only.
  if (worst > d.teamRemaining && !site.simulated) return TEAM_BUDGET;
  // Rate limited before tried: the last resort may retry a site the request failed at, never one that
  // asked for a pause.
  const admits = admitsOf(rec[at + L_STATE]);
  if (admits === ADMITS_RATE_LIMITED) return RATE_LIMITED;
  if (input.exclude?.has(site.id)) return TRIED;
  if (admits !== 1) return BREAKER;
  return 0;
}

/** The words for a rejection: only built when the placement is shown or nothing was eligible. */
function explain(check: Check, input: PlaceInput, s: Scored): Rejection {
  const { site, model } = s.offer;
  const { policy, request: req } = input;
  const c = policy.constraints ?? {};
  const e = s.est;
  /** The worst case, in as many digits as it takes to read above `limitNano`. */
  const worst = (limitNano: number) => usdAbove(worstCaseCost(model, req).totalNanoUsd, limitNano);
  switch (check) {
    case 'disabled': return { reason: 'disabled', detail: 'disabled in the catalog', summary: 'disabled' };
    case 'no-address': return {
      reason: 'no address',
      detail: `${site.endpoint.kind} needs endpoint.baseUrl (${ADDRESS_EXAMPLE[site.endpoint.kind as keyof typeof ADDRESS_EXAMPLE]}) for ${site.id} in the catalog file${input.index.site(twinId(site.id)) ? `; its simulated twin ${twinId(site.id)} serves instead` : ''}`,
      summary: 'without a base URL',
    };
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
    case 'context': return {
      reason: 'context',
      detail: req.maxOutputTokens === undefined
        ? `a ${req.inputTokens}-token prompt leaves no room for an answer in the ${model.contextWindow}-token context window`
        : `${req.inputTokens} prompt + ${req.maxOutputTokens} max output tokens exceed the ${model.contextWindow}-token context window`,
      summary: 'with too small a context window',
    };
    case 'tools': return site.simulated
      ? { reason: 'capability', detail: 'simulated: answers with text only, so it cannot call the request\'s tools; a real provider with a key can', summary: 'simulated, which cannot call tools' }
      : { reason: 'capability', detail: 'cannot call tools (endpoint.tools is false in the catalog)', summary: 'that cannot call tools' };
    case 'json': return site.simulated
      ? { reason: 'capability', detail: 'simulated: answers in plain text, not JSON; a real provider with a key can', summary: 'simulated, which cannot answer in JSON' }
      : { reason: 'capability', detail: `${site.provider} answers in JSON only to a schema; ask with one (response_format json_schema)`, summary: 'that answer in JSON only to a schema' };
    case 'images': return site.simulated
      ? { reason: 'capability', detail: 'simulated: answers with text only and sees no images; a real provider with a key can', summary: 'simulated, which sees no images' }
      : model.images !== true
        ? { reason: 'capability', detail: `${model.providerModel} here takes text only (the catalog does not set images)`, summary: 'whose model takes text only' }
        : { reason: 'capability', detail: 'Bedrock takes images inline only: send them as data: URLs', summary: 'that take images inline only' };
    case 'usd-per-1m': {
      const price = above(e.usdPer1M, c.maxUsdPer1MTokens!, (v, d) => v.toFixed(d), 3);
      return { reason: 'threshold', detail: `$${price} per 1M tokens for this request exceeds max $${c.maxUsdPer1MTokens}`, summary: `over max $${c.maxUsdPer1MTokens} per 1M tokens` };
    }
    case 'usd-per-request': return { reason: 'threshold', detail: `worst case ${worst(maxNanoPerRequest(c))} exceeds max $${c.maxUsdPerRequest} per request`, summary: `over max $${c.maxUsdPerRequest} per request` };
    case 'ttft': {
      const expected = `expected ${ms(e.queueWaitMs + e.ttftMs)} to first token (${ms(e.queueWaitMs)} queue)`;
      if (c.ttftConfidence === undefined) return { reason: 'threshold', detail: `${expected} exceeds max ${ms(c.maxTtftMs!)}`, summary: `over max TTFT ${ms(c.maxTtftMs!)}` };
      const likely = e.queueWaitMs + ttftEstimateMs(model, null, req.inputTokens) * ttftMargin(normalQuantile(c.ttftConfidence), s.load.ttftErrorMean, s.load.ttftErrorSd);
      return { reason: 'threshold', detail: `${expected}, ${ms(likely)} at ${percent(c.ttftConfidence)} confidence, exceeds max ${ms(c.maxTtftMs!)}`, summary: `over max TTFT ${ms(c.maxTtftMs!)} at ${percent(c.ttftConfidence)} confidence` };
    }
    case 'queue': return { reason: 'threshold', detail: `${e.ahead} requests ahead exceed max queue depth ${c.maxQueueDepth}`, summary: `over max queue depth ${c.maxQueueDepth}` };
    case 'budget': {
      const left = usd(input.remainingBudgetNanoUsd!);
      return { reason: 'budget', detail: `worst case ${worst(input.remainingBudgetNanoUsd!)} exceeds the remaining budget ${left}`, summary: `over the remaining budget ${left}` };
    }
    case 'team-budget': {
      const left = usd(input.teamRemainingNanoUsd!);
      return { reason: 'budget', detail: `worst case ${worst(input.teamRemainingNanoUsd!)} exceeds the team's remaining budget ${left}`, summary: `over the team's remaining budget ${left}` };
    }
    case 'tried': return { reason: 'breaker', detail: 'already failed for this request', summary: 'already tried for this request' };
    case 'rate-limited': return { reason: 'threshold', detail: 'rate limited: the provider asked to wait (Retry-After) or has no requests left in its window', summary: 'rate limited' };
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

function summarise(input: PlaceInput, rejected: Scored[]): string {
  const counts = new Map<string, number>();
  for (const s of rejected) {
    const { summary } = explain(s.rejected!, input, s);
    counts.set(summary, (counts.get(summary) ?? 0) + 1);
  }
  return [...counts].map(([summary, n]) => `${n} ${summary}`).join(', ');
}

/** One line on a site the decision chose or passed over; from its totals, no cost breakdown needed. */
function describe(input: PlaceInput, offers: readonly Offer[], blocks: readonly LoadRecord[], k: number): string {
  const { policy, request } = input;
  const offer = offers[k];
  const rec = blocks[k >>> BLOCK_BITS];
  const e = estimateScratch;
  estimateSite(e, offer.site, offer.model, offer.card, rec, atOf(k), request, costTerms(request, expectedOutputTokens(request)));
  return `${offer.site.id} at ${usd(e.totalNanoUsd)} expected, ${ms(e.queueWaitMs + e.ttftMs)} to first token, ${ms(e.totalMs)} in all`
    + (policy.kind === 'balanced' ? ` (score ${usd(numberAt(blocks, k, R_SCORE))})` : '');
}

/** Offer k of a decision as a Scored, with its cost breakdown: for the few sites that get described. */
function scored(input: PlaceInput, offers: readonly Offer[], blocks: readonly LoadRecord[], k: number): Scored {
  const rec = blocks[k >>> BLOCK_BITS];
  const at = atOf(k);
  const check = rec[at + R_CHECK];
  return {
    offer: offers[k],
    load: readLoad(rec, at),
    est: estimateOffer(offers[k], rec, at, input.request),
    rejected: check === 0 ? undefined : CHECKS[check - 1],
    score: rec[at + R_SCORE],
  };
}

// A decision record is made of ordinary arrays of doubles, in the JS heap (`newLoadRecord`). A typed
// array's buffer lives outside it, and allocating them at this rate (10 KB per decision at 100 sites)
// made V8 collect for "external memory pressure", with full mark-compacts, every few thousand
// decisions; young garbage in the heap costs a scavenge that finds nothing alive.
function newRecord(n: number): LoadRecord[] {
  const blocks: LoadRecord[] = [];
  for (let first = 0; first < n; first += BLOCK) blocks.push(newLoadRecord(Math.min(BLOCK, n - first) * STRIDE));
  return blocks;
}

/** Indices of the near-ties; reused across decisions (only read while deciding). */
let tieScratch = new Int32Array(64);
const estimateScratch = new EstimateScratch();

export function place(input: PlaceInput): Placement {
  const { request: req, policy, now } = input;
  const offers = input.index.offers(req.model);
  const n = offers.length;
  const c = policy.constraints ?? NO_CONSTRAINTS;
  const teamRemaining = input.teamRemainingNanoUsd ?? Infinity;
  const needsWorst = c.maxUsdPerRequest !== undefined || input.remainingBudgetNanoUsd !== undefined || teamRemaining !== Infinity;
  const d: Decision = {
    input,
    constraints: c,
    expected: costTerms(req, expectedOutputTokens(req)),
    needsWorst,
    worst: needsWorst && req.maxOutputTokens !== undefined ? worstCaseTerms(req, req.maxOutputTokens) : null,
    regionOk: c.regions ? new Map() : null,
    ttftZ: c.ttftConfidence !== undefined ? normalQuantile(c.ttftConfidence) : NaN,
    teamRemaining,
    maxNanoPerRequest: maxNanoPerRequest(c),
  };
  // The decision record: per site, its telemetry at this instant, its check and its score. Deciding
  // reads it; the explanation is rebuilt from it later, so it shows the state the decision saw.
  const blocks = newRecord(n);
  const e = estimateScratch;
  let eligible = 0;
  let best = -1;
  let bestScore = 0;
  // The runner-up (the explanation's "next best") is tracked with the best rather than found by a second
  // pass over the record: the lowest score but the best's, the first in catalog order among equals.
  let second = -1;
  let secondScore = 0;
  for (let b = 0; b < blocks.length; b++) {
    const rec = blocks[b];
    const first = b * BLOCK;
    input.telemetry.loadAllInto(offers, first, first + rec.length / STRIDE, req.model, now, rec, STRIDE);
    for (let k = first, at = 0; at < rec.length; k++, at += STRIDE) {
      const offer = offers[k];
      estimateSite(e, offer.site, offer.model, offer.card, rec, at, req, d.expected);
      const rank = rankIn(policy, offer.site.id);
      const failed = check(d, offer, e, rec, at, rank);
      scoreSite(e, policy, rank);
      const sc = e.score;
      rec[at + R_CHECK] = failed;
      rec[at + R_SCORE] = sc;
      if (failed === 0) {
        if (best < 0 || sc < bestScore) {
          second = best;
          secondScore = bestScore;
          best = k;
          bestScore = sc;
        } else if (second < 0 || sc < secondScore) {
          second = k;
          secondScore = sc;
        }
        eligible++;
      }
    }
  }

  let chosen = -1;
  let ties = 0;
  let runnerUp = -1;
  let resort = 0;
  if (eligible > 0) {
    ties = 1;
    if (policy.kind !== 'first-fit' && policy.kind !== 'pinned') {
      // Near-ties, in catalog order: power of two choices among them, two at random, the less loaded
      // wins (then the better score).
      const bound = bestScore + Math.abs(bestScore) * TIE_EPSILON;
      if (tieScratch.length < eligible) tieScratch = new Int32Array(Math.max(eligible, 2 * tieScratch.length));
      ties = 0;
      for (let k = 0; k < n; k++) if (numberAt(blocks, k, R_CHECK) === 0 && numberAt(blocks, k, R_SCORE) <= bound) tieScratch[ties++] = k;
    }
    if (ties <= 1) {
      chosen = best;
      runnerUp = second;
    } else {
      const i = Math.floor(input.rng() * ties);
      let j = Math.floor(input.rng() * (ties - 1));
      if (j >= i) j++;
      const a = tieScratch[i];
      const b = tieScratch[j];
      const aFlight = numberAt(blocks, a, L_IN_FLIGHT);
      const bFlight = numberAt(blocks, b, L_IN_FLIGHT);
      chosen = (aFlight !== bFlight ? aFlight < bFlight : !(numberAt(blocks, b, R_SCORE) < numberAt(blocks, a, R_SCORE))) ? a : b;
    }
  } else if (input.lastResort !== false) {
    // Every otherwise eligible site has its breaker open: rather than fail blind, try the one whose
    // last failure is oldest, the likeliest to have recovered. A site this request already tried failed
    // it just now, whatever its record says (one that could not take the request records nothing), so
    // it comes last.
    let oldest = Infinity;
    for (let k = 0; k < n; k++) {
      const failed = numberAt(blocks, k, R_CHECK);
      if (failed !== BREAKER && failed !== TRIED) continue;
      const at = failed === TRIED ? Infinity : lastFailureAt(blocks, k);
      if (chosen < 0 || at < oldest) {
        chosen = k;
        oldest = at;
      }
    }
    if (chosen >= 0) {
      resort = numberAt(blocks, chosen, R_CHECK);
      blocks[chosen >>> BLOCK_BITS][atOf(chosen) + R_CHECK] = 0;
    }
  }

  return new DecidedPlacement(chosen >= 0 ? offers[chosen].site.id : null, { input, offers, blocks, chosen, eligible, ties, runnerUp, resort, why: undefined, candidates: undefined });
}

/** When the site failed last, -Infinity if never: the breaker fallback tries the one that failed longest ago. */
function lastFailureAt(blocks: readonly LoadRecord[], k: number): number {
  return numberAt(blocks, k, L_STATE) & HAS_LAST_FAILURE ? numberAt(blocks, k, L_LAST_FAILURE) : -Infinity;
}

/** What a placement's words are built from. */
interface Explanation {
  input: PlaceInput;
  offers: readonly Offer[];
  blocks: readonly LoadRecord[];
  chosen: number;
  /** Sites that passed every check (the breaker fallback chooses among none). */
  eligible: number;
  /** Near-ties the choice was drawn from. */
  ties: number;
  /** The best eligible site after the chosen one, when there was no draw; -1 otherwise. */
  runnerUp: number;
  /** What the chosen site failed (breaker, or already tried) when the last resort chose it anyway; 0 otherwise. */
  resort: number;
  why: string | undefined;
  candidates: Candidate[] | undefined;
}

function whyOf(x: Explanation): string {
  const { input, offers, blocks, chosen } = x;
  const { request: req, policy } = input;
  if (offers.length === 0) return `unknown model ${req.model}: no site in the catalog offers it`;
  if (x.eligible > 0) {
    const named = policy.name === policy.kind ? policy.name : `${policy.name} (${policy.kind})`;
    return (input.instead ? `${input.instead.why}; fell back to ` : '') + `${named}: ${describe(input, offers, blocks, chosen)}`
      + (x.ties > 1 ? `; ${x.ties} sites within ${TIE_EPSILON * 100}% of the best, picked the less loaded of two at random` : '')
      + (x.runnerUp >= 0 ? `; next best ${describe(input, offers, blocks, x.runnerUp)}` : '');
  }
  if (chosen >= 0) {
    const at = lastFailureAt(blocks, chosen);
    const ago = at === -Infinity ? 'unknown' : `${Math.round((input.now - at) / 1000)} s ago`;
    return `${keptOut(x)}; trying ${offers[chosen].site.id}${x.resort === TRIED ? ' again' : ''}, which failed longest ago (${ago})`;
  }
  const all: Scored[] = [];
  for (let k = 0; k < offers.length; k++) all.push(scored(input, offers, blocks, k));
  if (input.instead) return `${input.instead.why}; nor by its fallback ${policy.name}: ${summarise(input, all)}${pinNote(input, offers)}`;
  return `no eligible site for ${req.model}: ${summarise(input, all)}${pinNote(input, offers)}`;
}

/** What kept out every site that passed the other checks, when the last resort tries one anyway. */
function keptOut(x: Explanation): string {
  let breaker = x.resort === BREAKER;
  let tried = x.resort === TRIED;
  for (let k = 0; k < x.offers.length; k++) {
    const failed = numberAt(x.blocks, k, R_CHECK);
    breaker ||= failed === BREAKER;
    tried ||= failed === TRIED;
  }
  if (!tried) return 'every eligible site\'s breaker is open';
  return `every eligible site already failed for this request${breaker ? ' or has its breaker open' : ''}`;
}

/**
 * Why a pin can never be met for this model: it names a site that does not offer it, or none in the
 * catalog ("not the pinned site" alone would hide that). Empty where a pinned site offers the model.
 */
function pinNote(input: PlaceInput, offers: readonly Offer[]): string {
  const { policy, request, index } = input;
  const offered = (ref: string) => offers.some((o) => names(ref, o.site.id));
  const which = (ref: string) => (index.site(ref) || index.site(twinId(ref)) ? `which does not offer ${request.model}` : 'which is not in the catalog');
  if (input.pinSite !== undefined && !offered(input.pinSite)) return `; the request is pinned to ${input.pinSite}, ${which(input.pinSite)}`;
  if (policy.kind === 'pinned' && !offered(policy.site ?? '')) return `; policy "${policy.name}" pins ${policy.site}, ${which(policy.site ?? '')}`;
  if (policy.kind === 'first-fit' && !(policy.order ?? []).some(offered)) return `; policy "${policy.name}"'s first-fit order names no site that offers ${request.model}`;
  return '';
}

/**
 * A Placement whose words (why, when, every candidate with its cost breakdown and the reason for each
 * rejection) are built from the decision record when first read (shown, serialised), not while deciding:
 * the decision stays O(sites) and builds no text. They are getters of the class, and `toJSON` writes them
 * out as the wire has them. Accessors defined on each placement cost about 1 us apiece
 * (Object.defineProperty), more than the rest of a decision at 10 sites; a closure per placement made each
 * one a dictionary-mode object whose decision record V8 kept alive through scavenges.
 */
class DecidedPlacement implements Placement {
  readonly id: string;
  readonly policy: string;
  readonly model: string;
  readonly #x: Explanation;

  constructor(readonly chosen: string | null, x: Explanation) {
    this.id = x.input.id;
    this.policy = x.input.policy.name;
    this.model = x.input.request.model;
    this.#x = x;
  }

  get why(): string {
    return (this.#x.why ??= whyOf(this.#x));
  }

  get fallbackOf(): string | undefined {
    return this.#x.input.instead?.policy;
  }

  get decidedAt(): string {
    return new Date(this.#x.input.now).toISOString();
  }

  get candidates(): Candidate[] {
    const x = this.#x;
    return (x.candidates ??= explainAll(x.input, x.offers, x.blocks, x.chosen));
  }

  toJSON(): Placement {
    return {
      id: this.id, policy: this.policy, model: this.model, chosen: this.chosen, why: this.why, decidedAt: this.decidedAt, candidates: this.candidates,
      ...(this.fallbackOf ? { fallbackOf: this.fallbackOf } : {}),
    };
  }
}

function explainAll(input: PlaceInput, offers: readonly Offer[], blocks: readonly LoadRecord[], chosen: number): Candidate[] {
  const all: Scored[] = [];
  for (let k = 0; k < offers.length; k++) all.push(scored(input, offers, blocks, k));
  const first = chosen >= 0 ? all[chosen] : undefined;
  const order = (s: Scored) => (s === first ? -1 : s.rejected ? 1 : 0);
  return all.sort((a, b) => order(a) - order(b) || a.score - b.score).map((s) => toCandidate(input, s));
}
