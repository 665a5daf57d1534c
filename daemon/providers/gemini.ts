// Google Gemini (generateContent / streamGenerateContent?alt=sse) through @ai-sdk/google. Every streamed
// chunk carries the running usageMetadata: the latest is mapped with the meter's fromGemini. A
// candidate's finishReason is the proper finish (MAX_TOKENS: the length limit), but for CONTINUATION:
// long decode (Gemini 4) ends a request there at its per-request output cap and the library sends the
// request again with the token for the next hop. Each hop is billed as a request of its own (it re-reads
// the prompt and what was generated so far), so the usage of an answer is the sum of its hops'.

import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { addUsage, fromGemini, type GeminiUsageMetadata } from '../meter/usage';
import type { ReportedUsage } from './types';
import { finishWith, type RawTracker, type WireFamily } from './wire';

interface GeminiChunk {
  candidates?: { finishReason?: string }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  error?: { code?: number; message?: string; status?: string };
}

export function geminiTracker(): RawTracker {
  /** The usage of the long-decode hops before the current one. */
  let hops: ReportedUsage | null = null;
  const tracker: RawTracker = {
    usage: null,
    finished: false,
    length: false,
    chunk(raw) {
      const c = raw as GeminiChunk | null;
      if (!c || typeof c !== 'object') return;
      // A usageMetadata without a prompt count (Vertex streams some with only cachedContentTokenCount)
      // reports nothing yet: taken as usage it would bill a cut stream's prompt as 0 tokens.
      if (c.usageMetadata?.promptTokenCount != null) tracker.usage = addUsage(hops, fromGemini(c.usageMetadata));
      // A blocked prompt is answered with no candidates at all, only promptFeedback: the filter ended the
      // answer before it began, as the library reports it (content-filter) and as a JSON answer ends.
      const blocked = c.promptFeedback?.blockReason;
      if (blocked && blocked !== 'BLOCK_REASON_UNSPECIFIED' && blocked !== 'BLOCKED_REASON_UNSPECIFIED') {
        tracker.finished = true;
        tracker.filtered = true;
      }
      for (const candidate of c.candidates ?? []) {
        if (candidate?.finishReason === 'CONTINUATION') hops = tracker.usage;
        else finishWith(tracker, candidate?.finishReason, 'MAX_TOKENS');
      }
      if (c.error && !tracker.error) {
        const status = typeof c.error.code === 'number' ? c.error.code : undefined;
        tracker.error = { status, message: `${c.error.status ?? 'error'}: ${c.error.message ?? ''}`, retryable: status === undefined || status === 429 || status >= 500 };
      }
    },
    body(raw, usage) {
      tracker.chunk(raw);
      // The body is the last hop's only; the library's usage adds up every hop's usageMetadata.
      const summed = usage?.raw as GeminiUsageMetadata | undefined;
      if (summed?.promptTokenCount != null) tracker.usage = fromGemini(summed);
      if ((raw as GeminiChunk | null)?.candidates?.length) tracker.finished = true;
    },
  };
  return tracker;
}

export const geminiFamily: WireFamily = {
  tracker: geminiTracker,
  // generationConfig.stopSequences takes up to 5.
  stops: { max: 5, blank: true },
  model(site, model, apiKey, fetch) {
    return createGoogleGenerativeAI({ baseURL: site.endpoint.baseUrl, apiKey: apiKey ?? '', fetch }).languageModel(model.providerModel);
  },
};
