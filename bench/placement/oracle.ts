// The offline oracle, with hindsight: it knows every request's arrival, prompt and answer length, and
// the exact time to first token each site would have given it (the simulated sites draw jitter per
// prompt, so these are the very times a live policy would meet). It assigns requests greedily in arrival
// order to the cheapest site whose FIFO queue, simulated exactly from the assignments so far, gets the
// first token out within the SLO; if no site can, to the one with the earliest first token.
//
// Greedy is not optimal (a cheap slot taken now can force a later request onto a dearer site), so this is
// a strong reference, not a bound. `lowerBound` is one: each request at the cheapest site that could meet
// the SLO on an idle server, capacity ignored. It ignores simulated errors (about 0.2% of requests).
//
// `drawBlindOracle` is the same greedy without the one thing no live router can know: each request's
// jitter draw. It still knows arrivals, answer lengths and every queue exactly, but judges a site's TTFT
// as a policy must, at a confidence (the median TTFT times exp(z * jitter)). What it costs above the
// oracle is the price of not seeing the draws; what a live policy costs above it, the price of not
// knowing queues and answer lengths.

import type { Site } from '../../daemon/catalog/types';
import { normalQuantile } from '../../daemon/engine/policies';
import { promptKey, simulatedInputTokens, simulatedTtftMs, speedOf } from '../../daemon/providers/simulated/adapter';
import { costOf, MODEL, promptFor, SLO_TTFT_MS, type Outcome } from './replay';
import type { TraceRequest } from './trace';

interface Offer {
  site: Site;
  ttft: number;
  /** The TTFT without the jitter draw: what the site's speed figures say. */
  median: number;
  service: number;
  cost: number;
}

function offersFor(sites: Site[], seed: number, i: number, req: TraceRequest): Offer[] {
  const messages = promptFor(i, req.input);
  const input = simulatedInputTokens(messages);
  const key = promptKey(messages);
  return sites.map((site) => {
    const spec = site.simulation!;
    const ttft = simulatedTtftMs(site, spec, MODEL, input, key, seed);
    const speed = speedOf(spec, MODEL);
    return { site, ttft, median: speed.ttftBaseMs + speed.ttftPerInputTokenMs * input, service: ttft + (req.output / speed.outputTokensPerSecond) * 1000, cost: costOf(site, input, req.output) };
  });
}

/** How the greedy judges an offer's time to first token, queue excluded. */
type Judge = (offer: Offer) => number;

export function oracle(trace: readonly TraceRequest[], load: number, sites: Site[], seed: number): Outcome[] {
  return greedy(trace, load, sites, seed, (offer) => offer.ttft);
}

export function drawBlindOracle(trace: readonly TraceRequest[], load: number, sites: Site[], seed: number, confidence: number): Outcome[] {
  const z = normalQuantile(confidence);
  return greedy(trace, load, sites, seed, (offer) => offer.median * Math.exp(z * offer.site.simulation!.jitter));
}

function greedy(trace: readonly TraceRequest[], load: number, sites: Site[], seed: number, judge: Judge): Outcome[] {
  const free = new Map(sites.map((s) => [s.id, new Array<number>(s.simulation!.servers).fill(0)]));
  return trace.map((req, i) => {
    const arrival = req.at / load;
    let pick: { offer: Offer; start: number; slot: number; firstToken: number } | undefined;
    let earliest: typeof pick;
    for (const offer of offersFor(sites, seed, i, req)) {
      const slots = free.get(offer.site.id)!;
      let slot = 0;
      for (let k = 1; k < slots.length; k++) if (slots[k] < slots[slot]) slot = k;
      const start = Math.max(arrival, slots[slot]);
      const firstToken = start - arrival + judge(offer);
      if (firstToken <= SLO_TTFT_MS && (!pick || offer.cost < pick.offer.cost)) pick = { offer, start, slot, firstToken };
      if (!earliest || firstToken < earliest.firstToken) earliest = { offer, start, slot, firstToken };
    }
    const { offer, start, slot } = pick ?? earliest!;
    free.get(offer.site.id)![slot] = start + offer.service;
    return { siteId: offer.site.id, ttftMs: start - arrival + offer.ttft, totalMs: start - arrival + offer.service, costNanoUsd: offer.cost, ok: true };
  });
}

export function lowerBoundNanoUsd(trace: readonly TraceRequest[], sites: Site[], seed: number): number {
  let total = 0;
  trace.forEach((req, i) => {
    const offers = offersFor(sites, seed, i, req);
    const fit = offers.filter((o) => o.ttft <= SLO_TTFT_MS);
    total += Math.min(...(fit.length ? fit : offers).map((o) => o.cost));
  });
  return total;
}
