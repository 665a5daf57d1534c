// Replays a trace against the simulated fleet in virtual time and measures what users would see.

import type { Site } from '../../daemon/catalog/types';
import { BYTES_PER_STREAMED_TOKEN } from '../../daemon/meter/estimate';
import { priceUsage } from '../../daemon/meter/pricing';
import type { ChatMessage } from '../../daemon/protocol';
import { createSimulatedAdapter, type SimulatedAdapter } from '../../daemon/providers/simulated/adapter';
import { VirtualClock } from '../../daemon/providers/simulated/clock';
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
  const outcomes: Outcome[] = new Array(trace.length);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < trace.length; i++) {
    const req = trace[i];
    await clock.advanceTo(req.at / load);
    // The router knows the prompt, not the answer's length: it sees a typical client cap and assumes
    // the engine's default expected length. The simulated model answers with the trace's length.
    const decision = strategy.choose({ model: MODEL, inputTokens: req.input, maxOutputTokens: CLIENT_MAX_TOKENS });
    const { site, adapter } = adapters.get(decision.siteId)!;
    pending.push(adapter.send({ site, model: site.models.find((m) => m.canonical === MODEL)!, messages: promptFor(i, req.input), maxTokens: req.output, signal: new AbortController().signal, onDelta: () => {} })
      .then((r: SiteResult) => {
        decision.done(r);
        const ok = r.outcome === 'complete' || r.outcome === 'length';
        outcomes[i] = { siteId: site.id, ttftMs: ok ? r.ttftMs : null, totalMs: r.durationMs, ok, costNanoUsd: r.usage ? costOf(site, r.usage.input, r.usage.output) : 0 };
      }));
  }
  await clock.runUntilIdle();
  await Promise.all(pending);
  return outcomes;
}
