// A simulated site behind the same SiteAdapter interface as real providers: a FIFO queue over a number of
// servers, time to first token growing with prompt length (lognormal jitter), output at a set speed,
// random errors and outage windows, all deterministic under a seed and on any Clock. Its text says
// plainly that it is simulated.

import { BYTES_PER_STREAMED_TOKEN, outputCap } from '../../meter/estimate';
import { StopScanner } from '../../chat/stop';
import type { ChatMessage } from '../../protocol';
import type { SimulationSpec, Site, SiteModel } from '../../catalog/types';
import type { SiteAdapter, SiteRequest, SiteResult } from '../types';
import type { Clock } from './clock';
import { SiteQueue } from './queue';
import { hash32, mulberry32, normal } from './rng';

export interface SimulatedOptions {
  /** Interval between streamed pieces, simulated ms. Benchmarks raise it to cut events. */
  chunkMs?: number;
  /** Length of the answer the simulated model "wants" to give; max tokens caps it. */
  replyTokens?: (request: SiteRequest, inputTokens: number) => number;
  /** When the simulation began, the origin of `outages` windows. Default: now. */
  epoch?: number;
  /** The site's queue before a catalog reload made it anew: kept while it has as many servers. */
  queue?: SiteQueue;
}

export interface SimulatedAdapter extends SiteAdapter {
  readonly queue: SiteQueue;
}

/** Median of a simulated answer when nothing says otherwise: about a chat reply. */
const REPLY_MEDIAN_TOKENS = 150;

/** Providers count ~4 characters of English per token; the simulated "provider" counts the same way. */
export function simulatedInputTokens(messages: readonly ChatMessage[]): number {
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return Math.ceil(chars / 4) + 4 * messages.length;
}

export function speedOf(spec: SimulationSpec, model: string) {
  const m = spec.models?.[model];
  return {
    ttftBaseMs: m?.ttftBaseMs ?? spec.ttftBaseMs,
    ttftPerInputTokenMs: m?.ttftPerInputTokenMs ?? spec.ttftPerInputTokenMs,
    outputTokensPerSecond: m?.outputTokensPerSecond ?? spec.outputTokensPerSecond,
  };
}

/** A request's identity for its random draws: the last message's start and the prompt's length. */
export function promptKey(messages: readonly ChatMessage[]): string {
  const last = messages[messages.length - 1]?.content ?? '';
  let chars = 0;
  for (const m of messages) chars += m.content.length;
  return `${chars}:${last.slice(0, 64)}`;
}

/** Time to first token at an idle server, queue excluded: exported so a hindsight oracle can see it. */
export function simulatedTtftMs(site: Site, spec: SimulationSpec, model: string, inputTokens: number, key: string, seed: number): number {
  const s = speedOf(spec, model);
  const z = normal(mulberry32(hash32(key, hash32(site.id, seed))));
  return (s.ttftBaseMs + s.ttftPerInputTokenMs * inputTokens) * Math.exp(spec.jitter * z);
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');

/** Tokens [from, to) of the simulated answer, one word per token. */
function words(from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += WORDS[i % WORDS.length] + ' ';
  return out;
}

function inOutage(spec: SimulationSpec, t: number): boolean {
  return (spec.outages ?? []).some((o) => t >= o.startMs && t < o.endMs);
}

function nextOutageStart(spec: SimulationSpec, from: number, to: number): number | null {
  let first: number | null = null;
  for (const o of spec.outages ?? []) if (o.startMs > from && o.startMs < to && (first === null || o.startMs < first)) first = o.startMs;
  return first;
}

export function createSimulatedAdapter(site: Site, clock: Clock, seed: number, options: SimulatedOptions = {}): SimulatedAdapter {
  const spec = site.simulation;
  if (!spec) throw new Error(`site ${site.id} has no simulation spec`);
  const queue = options.queue?.servers === spec.servers ? options.queue : new SiteQueue(spec.servers, clock);
  const errors = mulberry32(hash32(site.id, seed ^ 0x5eed));
  const epoch = options.epoch ?? clock.now();
  const chunkMs = options.chunkMs ?? 50;

  const header = (model: SiteModel) => `[simulated ${model.canonical} at ${site.provider} · ${site.location}] `;

  async function send(req: SiteRequest): Promise<SiteResult> {
    const start = clock.now();
    const inputTokens = simulatedInputTokens(req.messages);
    const key = promptKey(req.messages);
    const base = { headers: { 'x-simulated': 'true' }, usage: null, bytesReceived: 0 };
    const elapsed = () => clock.now() - start;
    const failure = (status: number, message: string): SiteResult => ({
      ...base, outcome: 'error', text: '', ttftMs: null, durationMs: elapsed(), queueDepth: queue.depth,
      error: { status, message: `simulated ${message} at ${site.id}`, retryable: true },
    });
    const cancelled = (): SiteResult => ({ ...base, outcome: 'cancelled', text: '', ttftMs: null, durationMs: elapsed(), queueDepth: queue.depth });

    if (inOutage(spec!, start - epoch)) return failure(503, 'outage');
    const release = await queue.acquire(req.signal);
    // Cancelled before a server took it: the site did no work, and says so (no usage would bill the prompt).
    if (!release) return { ...cancelled(), usage: { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0, raw: { simulated: true }, final: true } };
    try {
      const ttft = simulatedTtftMs(site, spec!, req.model.canonical, inputTokens, key, seed);
      if (errors() < spec!.errorRate) {
        await clock.sleep(ttft / 2, req.signal);
        // The sleep ends early on a cancel: the user left before the error came, which says nothing about the site.
        return req.signal.aborted ? cancelled() : failure(500, 'server error');
      }
      await clock.sleep(ttft, req.signal);
      if (req.signal.aborted) return cancelled();
      if (inOutage(spec!, clock.now() - epoch)) return failure(503, 'outage');

      const tps = speedOf(spec!, req.model.canonical).outputTokensPerSecond;
      const wanted = options.replyTokens?.(req, inputTokens)
        ?? Math.max(1, Math.round(REPLY_MEDIAN_TOKENS * Math.exp(0.8 * normal(mulberry32(hash32(key, seed + 1))))));
      const target = Math.min(outputCap(req.model, inputTokens, req.maxTokens), wanted);
      const firstTokenAt = clock.now();
      const streamMs = (target / tps) * 1000;
      const cutAt = nextOutageStart(spec!, firstTokenAt - epoch, firstTokenAt - epoch + streamMs);
      const endAt = cutAt === null ? firstTokenAt + streamMs : epoch + cutAt;

      const head = header(req.model);
      let produced = 0;
      let text = head;
      let answer = '';
      // A stop sequence ends the answer where it would appear, as a model's does (every one: a simulated
      // site takes any number); the label is not searched.
      const stops = req.stop ? new StopScanner(req.stop) : null;
      let stopped = false;
      req.onDelta(head);
      const show = (piece: string) => {
        answer += piece;
        text += piece;
        if (piece) req.onDelta(piece);
      };
      const emitUpTo = (t: number) => {
        const due = Math.min(target, Math.floor(((t - firstTokenAt) / 1000) * tps));
        if (due > produced && !stopped) {
          const piece = words(produced, due);
          produced = due;
          show(stops ? stops.push(piece) : piece);
          if (stops?.stopped) {
            stopped = true;
            // Billed for what was produced up to the stop: one token per word begun.
            produced = answer.split(' ').filter(Boolean).length;
          }
        }
      };
      while (clock.now() < endAt && !req.signal.aborted && !stopped) {
        await clock.sleep(Math.min(chunkMs, endAt - clock.now()), req.signal);
        emitUpTo(Math.min(clock.now(), endAt));
      }
      // The first token rides with the header; a finished stream has produced all it was going to.
      if (!req.signal.aborted && cutAt === null) emitUpTo(Infinity);
      // Words held back as the possible start of a stop sequence were produced all the same.
      if (stops && !stopped) show(stops.flush());
      const outcome = req.signal.aborted ? 'cancelled' : stopped ? 'complete' : cutAt !== null ? 'cut' : target < wanted ? 'length' : 'complete';
      const output = Math.max(1, produced);
      return {
        ...base,
        outcome,
        text,
        // Its own count of the words it made: the label around them is no output (counted, it would be).
        usage: { input: inputTokens, cachedInput: 0, cacheWrite: 0, output, reasoning: 0, raw: { simulated: true }, final: true },
        bytesReceived: output * BYTES_PER_STREAMED_TOKEN,
        ttftMs: firstTokenAt - start,
        durationMs: elapsed(),
        queueDepth: queue.depth,
        ...(outcome === 'cut' ? { error: { status: 503, message: `simulated outage cut the stream at ${site.id}`, retryable: true } } : {}),
      };
    } finally {
      release();
    }
  }

  return { send, queue };
}
