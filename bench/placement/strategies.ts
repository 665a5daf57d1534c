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
  /** `failed`: the sites this request already failed at (the replay fails over as the daemon does). */
  choose(req: PlacementRequest, failed: ReadonlySet<string>): Decision;
}

export type StrategyFactory = (sites: Site[], clock: Clock, seed: number) => Strategy;

const noop = () => {};

/**
 * An engine policy, placed as the daemon places it: when no site meets its thresholds (the whole fleet
 * over the TTFT limit) the request goes where its fallback places it (interactive's is fastest), and a
 * failover passes over the sites the request failed at. The baselines choose again by their own rule,
 * as their routers retry.
 */
export function enginePolicy(policy: Policy, fallback?: Policy): StrategyFactory {
  return (sites, clock, seed) => {
    const router = new Router({ index: indexCatalog({ sites, files: [] }) }, new Telemetry(), clock, mulberry32(seed));
    return {
      name: policy.name,
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

/**
 * LiteLLM latency-based routing: per deployment the last 10 samples of response time divided by
 * completion tokens; the lowest mean wins, a deployment with no samples counts as 0 (so each is tried),
 * first on a tie. Only successes are recorded.
 */
export const litellmLatency: StrategyFactory = (sites) => {
  const samples = new Map<string, number[]>(sites.map((s) => [s.id, []]));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return {
    name: 'litellm-latency',
    choose() {
      let best = sites[0].id;
      for (const s of sites) if (mean(samples.get(s.id)!) < mean(samples.get(best)!)) best = s.id;
      return {
        siteId: best,
        done(r) {
          const tokens = r.usage?.output ?? 0;
          if (r.outcome !== 'complete' && r.outcome !== 'length') return;
          const list = samples.get(best)!;
          list.push(r.durationMs / 1000 / Math.max(1, tokens));
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
