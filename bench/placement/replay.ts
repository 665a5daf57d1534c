// Replays a trace against the simulated fleet in virtual time and measures what users would see.

import type { Site } from '../../daemon/catalog/types';
import { backoffMs, failsOver, MAX_ATTEMPTS } from '../../daemon/chat/failover';
import { BYTES_PER_STREAMED_TOKEN } from '../../daemon/meter/estimate';
import { priceUsage } from '../../daemon/meter/pricing';
import type { ChatMessage } from '../../daemon/protocol';
import { createSimulatedAdapter, type SimulatedAdapter } from '../../daemon/providers/simulated/adapter';
import { VirtualClock } from '../../daemon/providers/simulated/clock';
import { mulberry32 } from '../../daemon/providers/simulated/rng';
import type { SiteResult } from '../../daemon/providers/types';
import type { StrategyFactory } from './strategies';
import type { TraceRequest } from './trace';

export const MODEL = 'llama-3.3-70b';
export const SLO_TTFT_MS = 1000;
const CLIENT_MAX_TOKENS = 4096;

export interface Outcome {
  siteId: string;
  ttftMs: number | null;
  totalMs: number;
  costNanoUsd: number;
  ok: boolean;
}

/** A prompt the simulated provider counts as exactly `input` tokens, unique per request. */
export function promptFor(i: number, input: number): ChatMessage[] {
  const tag = `#${i} `;
  const chars = Math.max(tag.length, (input - 4) * 4);
  return [{ role: 'user', content: tag + 'x'.repeat(chars - tag.length) }];
}

export function costOf(site: Site, input: number, output: number): number {
  const card = site.models.find((m) => m.canonical === MODEL)!.price;
  return priceUsage(card, { input, cachedInput: 0, cacheWrite: 0, output, reasoning: 0 }, output * BYTES_PER_STREAMED_TOKEN).totalNanoUsd;
}

export async function replay(trace: readonly TraceRequest[], load: number, sites: Site[], factory: StrategyFactory, seed: number): Promise<Outcome[]> {
  const clock = new VirtualClock();
  const adapters = new Map<string, { site: Site; adapter: SimulatedAdapter }>();
  for (const site of sites) {
    // The answer is as long as the trace says: max tokens is the trace's output length.
    adapters.set(site.id, { site, adapter: createSimulatedAdapter(site, clock, seed, { chunkMs: 1e12, replyTokens: (r) => r.maxTokens! }) });
  }
  const strategy = factory(sites, clock, seed);
  const jitter = mulberry32(seed ^ 0xfa11);
  const outcomes: Outcome[] = new Array(trace.length);
  // One request as the daemon serves it: placed, sent, and on a retryable failure before the first token
  // placed again and sent after the daemon's backoff; times count from its arrival, whatever the attempts.
  async function serve(i: number, req: TraceRequest, arrival: number): Promise<void> {
    const failed = new Set<string>();
    let cost = 0;
    // The router knows the prompt, not the answer's length: it sees a typical client cap and assumes
    // the engine's default expected length. The simulated model answers with the trace's length.
    const choose = () => strategy.choose({ model: MODEL, inputTokens: req.input, maxOutputTokens: CLIENT_MAX_TOKENS }, failed);
    let decision = choose();
    for (let attempts = 1; ; attempts++) {
      const { site, adapter } = adapters.get(decision.siteId)!;
      const start = clock.now() - arrival;
      const r: SiteResult = await adapter.send({ site, model: site.models.find((m) => m.canonical === MODEL)!, messages: promptFor(i, req.input), maxTokens: req.output, signal: new AbortController().signal, onDelta: () => {} });
      decision.done(r);
      if (r.usage) cost += costOf(site, r.usage.input, r.usage.output);
      if (failsOver(r) && attempts < MAX_ATTEMPTS) {
        failed.add(site.id);
        const pause = backoffMs(attempts, jitter());
        // The daemon places the next attempt the moment one fails (on what it knows then, the new site
        // counted in flight through the pause); a baseline's router chooses again when it retries.
        if (strategy.placesBeforeBackoff) decision = choose();
        await clock.sleep(pause);
        if (!strategy.placesBeforeBackoff) decision = choose();
        continue;
      }
      const ok = r.outcome === 'complete' || r.outcome === 'length';
      outcomes[i] = { siteId: site.id, ttftMs: ok && r.ttftMs !== null ? start + r.ttftMs : null, totalMs: start + r.durationMs, ok, costNanoUsd: cost };
      return;
    }
  }
  const pending: Promise<void>[] = [];
  for (let i = 0; i < trace.length; i++) {
    const arrival = trace[i].at / load;
    await clock.advanceTo(arrival);
    pending.push(serve(i, trace[i], arrival));
  }
  await clock.runUntilIdle();
  await Promise.all(pending);
  return outcomes;
}
