// Behaviour fingerprint of the placement engine: thousands of random decisions (every policy kind,
// every constraint, keys and twins, price tiers, cached prompts, fees, egress, breakers open and
// half-open, reported queue depths, unknown concurrency, failover exclusions, budgets) through
// Router.place, each serialised in full (chosen, why, every candidate with its cost breakdown and the
// words of its rejection), hashed. A speed change to the engine must leave the hash as it was.
//
//   node --import tsx bench/decision/fingerprint.ts [--scenarios N] [--dump]

import { createHash } from 'node:crypto';
import { indexCatalog } from '../../daemon/catalog/lookup';
import type { Site } from '../../daemon/catalog/types';
import { builtinPolicies } from '../../daemon/engine/policies';
import { Router } from '../../daemon/engine/router';
import { Telemetry } from '../../daemon/engine/telemetry';
import type { Policy, ProviderId } from '../../daemon/protocol';
import type { Clock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { SiteResult } from '../../daemon/providers/types';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const scenarios = arg('--scenarios', 300);
const dump = process.argv.includes('--dump');

const providers: ProviderId[] = ['groq', 'together', 'fireworks', 'openrouter', 'simulated'] as ProviderId[];
const regions = ['eu-central-1', 'us-east-1', 'europe-west4', 'us-central1', 'asia-east1', 'global', 'westeurope'];
const hardware = ['h100', 'tpu-v5e', 'lpu', 'a100'];

function sites(rng: () => number, n: number): Site[] {
  const out: Site[] = [];
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
  const maybe = <T>(p: number, v: () => T) => (rng() < p ? v() : undefined);
  for (let k = 0; k < n; k++) {
    const provider = pick(providers);
    const real: Site = {
      id: `${provider}/r${k}/h`, provider, region: pick(regions), location: `loc ${k}`, hardware: pick(hardware),
      simulated: provider === 'simulated', endpoint: { kind: 'simulated' },
      concurrency: maybe(0.8, () => 1 + Math.floor(rng() * 8)), disabled: rng() < 0.05 ? true : undefined,
      models: ['m', 'n'].filter(() => rng() < 0.8).map((canonical) => ({
        canonical, providerModel: `${canonical}-${k}`, contextWindow: pick([4096, 32_000, 128_000]),
        price: {
          inputPer1M: Math.round(rng() * 5000) / 1000, outputPer1M: Math.round(rng() * 15_000) / 1000, readOn: '2026-07-24',
          cachedInputPer1M: maybe(0.4, () => Math.round(rng() * 1000) / 1000),
          cacheWritePer1M: maybe(0.2, () => Math.round(rng() * 6000) / 1000),
          requestFee: maybe(0.2, () => Math.round(rng() * 1000) / 1e6),
          egressPerGB: maybe(0.4, () => Math.round(rng() * 120) / 1000),
          tier: maybe(0.2, () => ({ aboveInputTokens: 1000 + Math.floor(rng() * 3000), inputPer1M: Math.round(rng() * 9000) / 1000, cachedInputPer1M: maybe(0.5, () => rng()), outputPer1M: maybe(0.5, () => rng() * 20) })),
        },
        ttftMs: 50 + rng() * 900, ttftPerInputTokenMs: maybe(0.7, () => rng() * 0.2), outputTokensPerSecond: pick([0, 20 + rng() * 300, 20 + rng() * 300]),
      })),
    };
    out.push(real);
    // A simulated twin for some real sites, as the merged catalog has.
    if (!real.simulated && rng() < 0.6) out.push({ ...real, id: `sim:${real.id}`, simulated: true, disabled: undefined, concurrency: 1 + Math.floor(rng() * 6) });
  }
  return out;
}

function policies(rng: () => number, ids: string[]): Policy[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
  const real = ids.map((id) => id.replace(/^sim:/, ''));
  return [
    ...builtinPolicies(),
    { name: 'ff', kind: 'first-fit', order: [pick(real), pick(ids), pick(real)] },
    { name: 'pin', kind: 'pinned', site: pick(rng() < 0.5 ? real : ids) },
    { name: 'c1m', kind: 'cheapest', constraints: { maxUsdPer1MTokens: rng() * 5 } },
    { name: 'creq', kind: 'balanced', usdPerSecond: rng() * 0.001, constraints: { maxUsdPerRequest: rng() * 0.01, hardware: ['h100', 'lpu'] } },
    { name: 'fq', kind: 'fastest', constraints: { maxQueueDepth: Math.floor(rng() * 3), maxTtftMs: 300 + rng() * 1500, regions: ['us', 'asia-east1'] } },
  ];
}

const result = (over: Partial<SiteResult>): SiteResult => ({ outcome: 'complete', text: '', usage: null, headers: {}, bytesReceived: 0, ttftMs: 300, durationMs: 2000, ...over });

const hash = createHash('sha256');
let decisions = 0;
const chosenCounts = new Map<string, number>();
for (let sc = 0; sc < scenarios; sc++) {
  const rng = mulberry32(1000 + sc);
  const fleet = sites(rng, rng() < 0.1 ? 50 + Math.floor(rng() * 150) : 1 + Math.floor(rng() * 12));
  const index = indexCatalog({ sites: fleet, files: [] });
  let time = 12_000;
  const clock = { now: () => time } as Clock;
  const telemetry = new Telemetry({ breaker: { failureThreshold: 2, cooldownMs: 5000 } });
  const router = new Router({ index }, telemetry, clock, mulberry32(sc));
  const keyed = new Set(providers.filter(() => rng() < 0.6));
  // Telemetry history: successes, failures (breakers), reported queue depths, queued requests.
  for (let e = 0; e < 40; e++) {
    const site = fleet[Math.floor(rng() * fleet.length)];
    const model = rng() < 0.7 ? 'm' : 'n';
    const t = telemetry.onPlaced(site.id, model, e * 300, rng() * 50, site.concurrency);
    const r = rng();
    if (r < 0.15) continue; // still in flight
    const outcome = r < 0.3 ? result({ outcome: 'error', ttftMs: null, error: { status: 503, retryable: true, message: 'x' } as SiteResult['error'] })
      : r < 0.35 ? result({ outcome: 'cancelled', ttftMs: null })
      : result({ ttftMs: 100 + rng() * 800, durationMs: 1000 + rng() * 4000, queueDepth: rng() < 0.3 ? Math.floor(rng() * 5) : undefined, headers: rng() < 0.3 ? { 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-limit-requests': '10' } : {} });
    telemetry.onResult(t, outcome, e * 300 + 100, Math.floor(rng() * 400));
  }
  const ps = policies(rng, fleet.map((s) => s.id));
  for (let d = 0; d < 20; d++) {
    time += Math.floor(rng() * 4000);
    const inputTokens = Math.floor(rng() * 6000);
    const request = {
      model: rng() < 0.05 ? 'unknown' : rng() < 0.75 ? 'm' : 'n', inputTokens, maxOutputTokens: 1 + Math.floor(rng() * 4000),
      cachedInputTokens: rng() < 0.3 ? Math.floor(rng() * inputTokens * 1.2) : undefined,
      expectedOutputTokens: rng() < 0.4 ? Math.floor(rng() * 600) : undefined,
    };
    const policy = ps[Math.floor(rng() * ps.length)];
    const exclude = rng() < 0.2 ? new Set(fleet.filter(() => rng() < 0.3).map((s) => s.id)) : undefined;
    const routed = router.place(request, policy, {
      hasKey: (p) => keyed.has(p),
      remainingBudgetNanoUsd: rng() < 0.3 ? Math.floor(rng() * 5e7) : undefined,
      pinSite: rng() < 0.1 ? fleet[Math.floor(rng() * fleet.length)].id.replace(/^sim:/, '') : undefined,
      exclude,
    });
    const text = JSON.stringify(routed.placement);
    if (dump) console.log(text);
    hash.update(text);
    decisions++;
    const c = routed.placement.chosen === null ? 'null' : 'site';
    chosenCounts.set(c, (chosenCounts.get(c) ?? 0) + 1);
    if (routed.ticket && rng() < 0.5) router.settle(routed.ticket, rng() < 0.2 ? result({ outcome: 'error', ttftMs: null, error: { status: 500, retryable: true, message: 'x' } as SiteResult['error'] }) : result({ ttftMs: 200 + rng() * 500 }));
  }
}
if (!dump) console.log(`${decisions} decisions (${[...chosenCounts].map(([k, v]) => `${k} ${v}`).join(', ')}): sha256 ${hash.digest('hex')}`);
