// Who decides where each replayed request goes: the engine's policies through the Router, and the
// baselines as the routers they imitate implement them.

import type { Site } from '../../daemon/catalog/types';
import { Router } from '../../daemon/engine/router';
import { Telemetry } from '../../daemon/engine/telemetry';
import type { PlacementRequest } from '../../daemon/engine/types';
import type { Policy } from '../../daemon/protocol';
import type { Clock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { SiteResult } from '../../daemon/providers/types';
import { indexCatalog } from '../../daemon/catalog/lookup';

export interface Decision {
  siteId: string;
  done(result: SiteResult): void;
}

export interface Strategy {
  name: string;
  /** After a failure, the next attempt is placed before the backoff (the daemon's order), not after it. */
  placesBeforeBackoff?: boolean;
  /** `failed`: the sites this request already failed at (the replay fails over as the daemon does). */
  choose(req: PlacementRequest, failed: ReadonlySet<string>): Decision;
}

export type StrategyFactory = (sites: Site[], clock: Clock, seed: number) => Strategy;

const noop = () => {};

/**
 * An engine policy, placed as the daemon places it: when no site meets its thresholds (the whole fleet
 * over the TTFT limit) the request goes where its fallback places it (interactive's is fastest), and a
 * failover, placed the moment the attempt fails, passes over the sites the request failed at. The
 * baselines choose again by their own rule, as their routers retry.
 */
export function enginePolicy(policy: Policy, fallback?: Policy): StrategyFactory {
  return (sites, clock, seed) => {
    const router = new Router({ index: indexCatalog({ sites, files: [] }) }, new Telemetry(), clock, mulberry32(seed));
    return {
      name: policy.name,
      placesBeforeBackoff: true,
      choose(req, failed) {
        const routed = router.place(req, policy, { hasKey: () => false, fallback, exclude: failed });
        const ticket = routed.ticket!;
        return { siteId: routed.placement.chosen!, done: (r) => router.settle(ticket, r) };
      },
    };
  };
}

export const roundRobin: StrategyFactory = (sites) => {
  let next = 0;
  return { name: 'round-robin', choose: () => ({ siteId: sites[next++ % sites.length].id, done: noop }) };
};

export const random: StrategyFactory = (sites, _clock, seed) => {
  const rng = mulberry32(seed);
  return { name: 'random', choose: () => ({ siteId: sites[Math.floor(rng() * sites.length)].id, done: noop }) };
};

/** Fewest requests in flight, counted at dispatch; the first such site on a tie (LiteLLM least-busy). */
export const leastBusy: StrategyFactory = (sites) => {
  const inFlight = new Map(sites.map((s) => [s.id, 0]));
  return {
    name: 'least-busy',
    choose() {
      let best = sites[0].id;
      for (const s of sites) if (inFlight.get(s.id)! < inFlight.get(best)!) best = s.id;
      inFlight.set(best, inFlight.get(best)! + 1);
      return { siteId: best, done: () => inFlight.set(best, inFlight.get(best)! - 1) };
    },
  };
};

/** How long LiteLLM keeps its latency map: an hour from the write that made it (later writes do not renew it). */
const LITELLM_LATENCY_TTL_MS = 3_600_000;

/**
 * LiteLLM latency-based routing (`router_strategy/lowest_latency.py`, default routing args: 10 samples,
 * no buffer, an hour's TTL): per deployment the last 10 samples of response time divided by completion
 * tokens, from successes only; the lowest mean wins, and among equals LiteLLM picks at random. Untried
 * deployments read 0, so each is tried: before any success every deployment reads 0 (LiteLLM has no map
 * yet); once its map exists, a decision writes a sample of 0 for each deployment missing from it, and
 * that 0 stays among the deployment's samples, in the mean's count, until ten later ones push it out
 * (the oldest sample goes first since BerriAI/litellm#25548, April 2026; before it, the newest did).
 */
export const litellmLatency: StrategyFactory = (sites, clock, seed) => {
  const rng = mulberry32(seed ^ 0x1a7e);
  let samples: Map<string, number[]> | null = null;
  let expiresAt = 0;
  const map = () => (samples && clock.now() > expiresAt ? (samples = null) : samples);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    name: 'litellm-latency',
    choose() {
      const read = map();
      if (read) for (const s of sites) if (!read.has(s.id)) read.set(s.id, [0]);
      const latency = sites.map((s) => (read ? mean(read.get(s.id)!) : 0));
      const lowest = Math.min(...latency);
      const equal = sites.filter((_, k) => latency[k] === lowest);
      const best = equal[Math.floor(rng() * equal.length)].id;
      return {
        siteId: best,
        done(r) {
          if (r.outcome !== 'complete' && r.outcome !== 'length') return;
          let write = map();
          if (!write) {
            write = samples = new Map();
            expiresAt = clock.now() + LITELLM_LATENCY_TTL_MS;
          }
          const list = write.get(best) ?? [];
          write.set(best, list);
          list.push(r.durationMs / 1000 / Math.max(1, r.usage?.output ?? 0));
          if (list.length > 10) list.shift();
        },
      };
    },
  };
};

/** LiteLLM cost-based routing: lowest input + output price per token, first on a tie, no spreading. */
export const litellmCost: StrategyFactory = (sites) => {
  const price = (s: Site) => {
    const p = s.models.find((m) => m.canonical === 'llama-3.3-70b')!.price;
    return p.inputPer1M + p.outputPer1M;
  };
  const best = sites.reduce((a, b) => (price(b) < price(a) ? b : a)).id;
  return { name: 'litellm-cost', choose: () => ({ siteId: best, done: noop }) };
};
